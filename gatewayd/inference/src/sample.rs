//! Choosing the next token from logits: greedy, or temperature with top-k, min-p and top-p,
//! after a repetition penalty on the recent tokens, from a seeded generator so a seed
//! reproduces a completion exactly.
//!
//! Non-finite logits are never chosen (treated as minus infinity); if every logit is
//! non-finite the first token is returned rather than panicking.

/// Sampling settings. `temperature <= 0` is greedy; `top_k == 0`, `top_p >= 1`,
/// `min_p <= 0` and `repetition_penalty == 1` disable those.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    /// Keeps tokens at least this fraction as likely as the best one.
    pub min_p: f32,
    /// llama.cpp's penalty: a recent token's positive logit is divided by it, a negative one
    /// multiplied (> 1 discourages repeats).
    pub repetition_penalty: f32,
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            seed: 0,
        }
    }
}

/// A sampler with its own generator state.
#[derive(Debug, Clone)]
pub struct Sampler {
    config: SamplerConfig,
    state: u64,
    candidates: Vec<(u32, f32)>,
}

fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        f32::NEG_INFINITY
    }
}

/// The index of the largest finite logit (the first of equals).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = (0usize, f32::NEG_INFINITY);
    for (i, &v) in logits.iter().enumerate() {
        if finite(v) > best.1 {
            best = (i, v);
        }
    }
    best.0 as u32
}

impl Sampler {
    pub fn new(config: SamplerConfig) -> Self {
        let state = config.seed;
        Self {
            config,
            state,
            candidates: Vec::new(),
        }
    }

    /// SplitMix64: small, fast, and fixed here so a seed means the same thing in every build.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Picks the next token.
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        self.sample_after(logits, &[])
    }

    /// Picks the next token, `recent` being the tokens the repetition penalty looks at.
    pub fn sample_after(&mut self, logits: &[f32], recent: &[u32]) -> u32 {
        let c = &self.config;
        let penalty = c.repetition_penalty;
        let penalise = penalty.is_finite() && penalty > 0.0 && penalty != 1.0 && !recent.is_empty();
        let greedy = c.temperature <= 0.0 || !c.temperature.is_finite() || logits.is_empty();
        if greedy && !penalise {
            return argmax(logits);
        }
        let (temp, top_k, top_p, min_p) = (c.temperature, c.top_k, c.top_p, c.min_p);
        let mut cand = std::mem::take(&mut self.candidates);
        cand.clear();
        cand.extend(
            logits
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as u32, finite(v))),
        );
        if penalise {
            let mut seen = std::collections::HashSet::with_capacity(recent.len());
            for &t in recent {
                if let Some(e) = cand.get_mut(t as usize).filter(|_| seen.insert(t)) {
                    e.1 = if e.1 > 0.0 {
                        e.1 / penalty
                    } else {
                        e.1 * penalty
                    };
                }
            }
        }
        if greedy {
            let mut best = (0u32, f32::NEG_INFINITY);
            for &(i, v) in cand.iter() {
                if v > best.1 {
                    best = (i, v);
                }
            }
            self.candidates = cand;
            return best.0;
        }
        // Highest first; ties by lower id so the order is deterministic.
        cand.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if top_k > 0 && top_k < cand.len() {
            cand.truncate(top_k);
        }
        let max = cand[0].1;
        if !max.is_finite() {
            let first = cand[0].0;
            self.candidates = cand;
            return first;
        }
        let mut total = 0f64;
        for e in cand.iter_mut() {
            // Each value is now the token's probability relative to the best token's.
            e.1 = ((e.1 - max) / temp).exp();
            total += e.1 as f64;
        }
        if min_p > 0.0 {
            // Sorted: the kept tokens are a prefix (the best one always stays).
            let keep = cand.iter().take_while(|e| e.1 >= min_p).count().max(1);
            cand.truncate(keep);
            total = cand.iter().map(|e| e.1 as f64).sum();
        }
        if top_p < 1.0 {
            let mut acc = 0f64;
            let mut keep = cand.len();
            for (i, e) in cand.iter().enumerate() {
                acc += e.1 as f64 / total;
                if acc >= top_p as f64 {
                    keep = i + 1;
                    break;
                }
            }
            cand.truncate(keep.max(1));
            total = cand.iter().map(|e| e.1 as f64).sum();
        }
        let mut r = self.next_f64() * total;
        let mut chosen = cand[cand.len() - 1].0;
        for e in cand.iter() {
            r -= e.1 as f64;
            if r < 0.0 {
                chosen = e.0;
                break;
            }
        }
        self.candidates = cand;
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_largest_finite_logit() {
        let mut s = Sampler::new(SamplerConfig::default());
        assert_eq!(s.sample(&[0.1, f32::NAN, 3.0, 3.0, f32::INFINITY]), 2);
        assert_eq!(s.sample(&[f32::NAN, f32::NAN]), 0);
    }

    #[test]
    fn a_seed_reproduces_and_filters_hold() {
        let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let cfg = SamplerConfig {
            temperature: 1.0,
            top_k: 5,
            top_p: 1.0,
            seed: 7,
            ..SamplerConfig::default()
        };
        let a: Vec<u32> = {
            let mut s = Sampler::new(cfg.clone());
            (0..200).map(|_| s.sample(&logits)).collect()
        };
        let b: Vec<u32> = {
            let mut s = Sampler::new(cfg.clone());
            (0..200).map(|_| s.sample(&logits)).collect()
        };
        assert_eq!(a, b);
        let mut top5: Vec<u32> = (0..50).collect();
        top5.sort_by(|x, y| logits[*y as usize].total_cmp(&logits[*x as usize]));
        top5.truncate(5);
        assert!(a.iter().all(|t| top5.contains(t)));
        assert!(
            a.iter().collect::<std::collections::HashSet<_>>().len() > 1,
            "temperature 1 should vary"
        );

        // top_p small enough keeps only the best token.
        let mut s = Sampler::new(SamplerConfig {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.01,
            seed: 1,
            ..SamplerConfig::default()
        });
        assert!((0..50).all(|_| s.sample(&logits) == top5[0]));
    }

    #[test]
    fn low_temperature_concentrates_on_the_best() {
        let mut s = Sampler::new(SamplerConfig {
            temperature: 0.05,
            top_k: 0,
            top_p: 1.0,
            seed: 3,
            ..SamplerConfig::default()
        });
        let hits = (0..500).filter(|_| s.sample(&[1.0, 2.0, 1.5]) == 1).count();
        assert!(hits > 490, "{hits}");
    }

    #[test]
    fn min_p_keeps_only_tokens_near_the_best() {
        // Probabilities relative to the best: 1, e^-1 ≈ 0.37, e^-3 ≈ 0.05.
        let logits = [3.0, 2.0, 0.0];
        let mut s = Sampler::new(SamplerConfig {
            temperature: 1.0,
            min_p: 0.2,
            seed: 5,
            ..SamplerConfig::default()
        });
        let picks: std::collections::HashSet<u32> = (0..400).map(|_| s.sample(&logits)).collect();
        assert_eq!(picks, [0, 1].into_iter().collect());
    }

    #[test]
    fn a_repetition_penalty_moves_greedy_off_a_repeated_token() {
        let logits = [2.0, 1.9, -1.0];
        let mut s = Sampler::new(SamplerConfig {
            repetition_penalty: 1.3,
            ..SamplerConfig::default()
        });
        assert_eq!(s.sample_after(&logits, &[]), 0);
        // 2.0 / 1.3 ≈ 1.54 < 1.9: the repeated token loses its lead; a token seen twice is
        // penalised once, and ids past the vocabulary are ignored.
        assert_eq!(s.sample_after(&logits, &[0, 0, 99]), 1);
        // A negative logit is multiplied: more negative.
        assert_eq!(s.sample_after(&[-1.0, -1.2], &[0]), 1);
    }
}
