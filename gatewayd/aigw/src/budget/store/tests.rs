//! The embedded store under concurrency: N calls at once against a budget for k of them.

use std::sync::{Arc, Barrier};

use proptest::prelude::*;

use super::*;

fn claim(key: &str, window: Window, limit: u64, amount: u64) -> Claim {
    Claim {
        key: key.into(),
        window,
        limit,
        amount,
        hold: true,
    }
}

/// `n` threads reserve `cost` at once on a team budget (for `k` calls, plus `slack` < cost)
/// and a user budget for all of them; returns what each got.
fn burst(n: usize, k: u64, cost: u64, slack: u64) -> (Arc<MemoryStore>, Vec<Option<Vec<Held>>>) {
    let store = Arc::new(MemoryStore::default());
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                let claims = [
                    claim("user", Window::Day, u64::MAX / 2, cost),
                    claim("team", Window::Month, k * cost + slack, cost),
                ];
                barrier.wait();
                store.reserve(&claims, 1_000_000).ok()
            })
        })
        .collect();
    let got = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (store, got)
}

fn view(store: &MemoryStore, key: &str) -> CounterView {
    store
        .snapshot(1_000_000)
        .into_iter()
        .find(|c| c.key == key)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn n_concurrent_calls_against_a_budget_for_k_admit_exactly_k(
        n in 1usize..24, k in 0u64..24, cost in 1u64..5_000, slack_frac in 0u64..100, used_frac in 0u64..=100,
    ) {
        let slack = cost * slack_frac / 100;
        let (store, got) = burst(n, k, cost, slack);
        let admitted: Vec<&Vec<Held>> = got.iter().flatten().collect();
        prop_assert_eq!(admitted.len() as u64, k.min(n as u64));
        // All or nothing: the user counter holds exactly what the team counter does.
        prop_assert_eq!(view(&store, "user").reserved, view(&store, "team").reserved);
        for held in &admitted {
            let used = cost * used_frac / 100;
            store.settle(held, &[used, used], 1_000_001);
        }
        let team = view(&store, "team");
        prop_assert_eq!(team.reserved, 0);
        prop_assert!(team.spent <= k * cost + slack);
        prop_assert_eq!(team.spent, admitted.len() as u64 * (cost * used_frac / 100));
    }
}

#[test]
fn a_refusal_says_when_the_window_frees_and_whether_waiting_helps() {
    let store = MemoryStore::default();
    let day = 86_400 * 20_000 + 3_600;
    let c = claim("b", Window::Day, 100, 60);
    let held = store.reserve(std::slice::from_ref(&c), day).unwrap();
    // Only a reservation blocks: it may pass when that call settles, but the window still
    // resets at the day's end (what the refusal names).
    let r = store.reserve(std::slice::from_ref(&c), day).unwrap_err();
    assert_eq!(
        (r.reset_at, r.held_only, r.never, r.spent, r.reserved),
        (86_400 * 20_001, true, false, 0, 60)
    );
    store.settle(&held, &[60], day + 5);
    // Spent blocks: the day's end.
    let r = store
        .reserve(std::slice::from_ref(&c), day + 6)
        .unwrap_err();
    assert_eq!((r.reset_at, r.held_only), (86_400 * 20_001, false));
    let r = store
        .reserve(&[claim("b", Window::Day, 100, 101)], day)
        .unwrap_err();
    assert!(r.never);
    // The next day starts from nothing.
    assert!(store
        .reserve(std::slice::from_ref(&c), 86_400 * 20_001)
        .is_ok());
}

#[test]
fn rolling_windows_forget_spend_only_a_whole_window_after_its_bucket_ends() {
    let store = MemoryStore::default();
    let hour = Window::Rolling(3_600); // buckets of 60 s
    let c = claim("r", hour, 10, 10);
    let t0 = 1_000_020;
    let held = store.reserve(std::slice::from_ref(&c), t0).unwrap();
    store.settle(&held, &[10], t0 + 1);
    // Its bucket began at 1_000_020 - 0 (1_000_020 is a multiple of 60) and ends 60 s later.
    let bucket_end = t0 - t0 % 60 + 60;
    assert!(store
        .reserve(std::slice::from_ref(&c), bucket_end + 3_599)
        .is_err());
    let r = store
        .reserve(std::slice::from_ref(&c), t0 + 100)
        .unwrap_err();
    assert_eq!(r.reset_at, bucket_end + 3_600);
    assert!(store
        .reserve(std::slice::from_ref(&c), bucket_end + 3_600)
        .is_ok());
}

#[test]
fn requests_count_at_once_and_calls_in_flight_only_while_they_last() {
    let store = MemoryStore::default();
    let rpm = Claim {
        hold: false,
        ..claim("rpm", Window::Fixed(60), 2, 1)
    };
    let flight = claim("cc", Window::InFlight, 1, 1);
    let a = store.reserve(&[rpm.clone(), flight.clone()], 120).unwrap();
    assert_eq!(
        store
            .reserve(&[rpm.clone(), flight.clone()], 121)
            .unwrap_err()
            .index,
        1
    );
    store.settle(&a, &[1, 0], 122);
    let b = store.reserve(&[rpm.clone(), flight.clone()], 123).unwrap();
    store.settle(&b, &[1, 0], 124);
    let r = store.reserve(&[rpm.clone(), flight], 125).unwrap_err();
    assert_eq!((r.index, r.reset_at), (0, 180));
    assert!(store.reserve(&[rpm], 180).is_ok());
}

#[test]
fn seeded_spend_counts_against_the_period_it_was_spent_in() {
    let store = MemoryStore::default();
    let now = 86_400 * 20_000 + 7_200;
    store.seed("s", Window::Day, 100, 86_400 * 20_000, 95, now);
    store.seed("s", Window::Day, 100, 86_400 * 19_999, 1_000, now);
    assert_eq!(view_at(&store, "s", now).spent, 95);
    assert!(store
        .reserve(&[claim("s", Window::Day, 100, 6)], now)
        .is_err());
    assert!(store
        .reserve(&[claim("s", Window::Day, 100, 5)], now)
        .is_ok());
}

fn view_at(store: &MemoryStore, key: &str, now: u64) -> CounterView {
    store
        .snapshot(now)
        .into_iter()
        .find(|c| c.key == key)
        .unwrap()
}
