//! A randomised test against a model: random batch and record sizes, interleaved appends,
//! replays, acks, unacked replays and restarts, with a deterministic RNG. The model is the
//! queue of records not yet acked; drops (`DropOldest`) must be exactly its oldest records.

use std::collections::VecDeque;

use spool::{FsyncPolicy, Replay, Spool, SpoolError, SpoolOptions, WhenFull};

/// xorshift64*: deterministic and good enough to pick sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn open(dir: &std::path::Path, rng: &mut Rng) -> Spool {
    let options = SpoolOptions {
        max_bytes: 64 * 1024,
        segment_bytes: 8 * 1024,
        fsync: if rng.below(4) == 0 {
            FsyncPolicy::EveryBatch
        } else {
            FsyncPolicy::Never
        },
        when_full: WhenFull::DropOldest,
        replay_max_records: 1 + rng.below(60) as usize,
        replay_max_bytes: 1 + rng.below(16 * 1024),
    };
    Spool::open(dir, options).unwrap()
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut spool = open(dir.path(), &mut rng);
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let mut held: Option<Replay> = None;
    let mut next_id = 0u64;
    let mut dropped_total = 0u64;
    let mut acked_total = 0u64;

    for step in 0..steps {
        match rng.below(10) {
            0..=2 => {
                let count = rng.below(30);
                let batch: Vec<Vec<u8>> = (0..count)
                    .map(|_| {
                        let len = if rng.below(50) == 0 {
                            2_000 + rng.below(6_000)
                        } else {
                            rng.below(600)
                        };
                        let mut r = next_id.to_le_bytes().to_vec();
                        next_id += 1;
                        r.resize(8 + len as usize, (next_id % 251) as u8);
                        r
                    })
                    .collect();
                let bytes: u64 = batch
                    .iter()
                    .map(|r| spool::HEADER_LEN as u64 + r.len() as u64)
                    .sum();
                match spool.append_batch(&batch) {
                    Ok(outcome) => {
                        assert!(bytes <= 64 * 1024, "seed {seed} step {step}");
                        for _ in 0..outcome.dropped_records {
                            model.pop_front();
                        }
                        if outcome.dropped_records > 0 {
                            dropped_total += outcome.dropped_records;
                            // The held batch's records may be gone: forget it.
                            held = None;
                        }
                        model.extend(batch);
                    }
                    Err(SpoolError::BatchTooLarge { .. }) => assert!(bytes > 64 * 1024),
                    Err(e) => panic!("seed {seed} step {step}: {e}"),
                }
                assert!(spool.stats().bytes <= 64 * 1024);
            }
            3..=5 => {
                let batch = spool.replay().unwrap();
                assert!(batch.skipped.is_empty());
                let expected: Vec<&Vec<u8>> = model.iter().take(batch.records.len()).collect();
                let got: Vec<&Vec<u8>> = batch.records.iter().collect();
                assert_eq!(got, expected, "seed {seed} step {step}: replay order");
                assert_eq!(
                    batch.is_empty(),
                    model.is_empty(),
                    "seed {seed} step {step}"
                );
                held = Some(batch);
            }
            6..=8 => {
                if let Some(batch) = held.take() {
                    spool.ack(batch.cursor).unwrap();
                    for _ in 0..batch.records.len() {
                        model.pop_front();
                    }
                    acked_total += batch.records.len() as u64;
                }
            }
            _ => {
                // Restart; a held, unacked batch is simply replayed again later.
                held = None;
                drop(spool);
                spool = open(dir.path(), &mut rng);
            }
        }
        assert_eq!(
            spool.stats().records_pending,
            model.len() as u64,
            "seed {seed} step {step}: pending count"
        );
    }
    // Drain everything that is left, in order.
    let mut rest = Vec::new();
    loop {
        let batch = spool.replay().unwrap();
        if batch.is_empty() {
            break;
        }
        rest.extend(batch.records);
        spool.ack(batch.cursor).unwrap();
    }
    assert_eq!(rest, Vec::from(model), "seed {seed}: final drain");
    assert!(
        dropped_total > 0,
        "seed {seed}: the test should exercise DropOldest"
    );
    assert!(
        acked_total > 0,
        "seed {seed}: the test should exercise acks"
    );
    assert!(
        !rest.is_empty(),
        "seed {seed}: something should be left to drain"
    );
}

#[test]
fn random_batches_match_the_model() {
    for seed in [0x9E37_79B9_7F4A_7C15, 42, 7_777_777] {
        run(seed, 400);
    }
}
