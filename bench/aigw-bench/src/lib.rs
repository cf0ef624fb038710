//! `bench/aigw.sh`'s tools, kept out of every shipped binary: `aigw-mock` (an OpenAI chat
//! completions provider on loopback: instant JSON answers, paced SSE streams) and `aigw-load`
//! (an open-loop load generator measuring latency, time to first token, inter-chunk gaps and
//! RSS). This library holds what both share: percentiles and flag parsing.
//!
//! Never: run in tests or CI with timing assertions; these are measurements, read by people.

use std::time::Duration;

/// Percentiles of a set of durations, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub n: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub min: u64,
}

impl Summary {
    /// Sorts `samples` (microseconds) and reads the percentiles (nearest rank).
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        if n == 0 {
            return Self::default();
        }
        let rank = |q: f64| samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Self {
            n,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            p999: rank(0.999),
            max: samples[n - 1],
            min: samples[0],
        }
    }

    /// As JSON fields prefixed with `prefix` (`prefix_p50_us` ...).
    pub fn json(&self, prefix: &str, into: &mut serde_json::Map<String, serde_json::Value>) {
        for (name, v) in [
            ("p50", self.p50),
            ("p90", self.p90),
            ("p99", self.p99),
            ("p999", self.p999),
            ("max", self.max),
            ("min", self.min),
        ] {
            into.insert(format!("{prefix}_{name}_us"), v.into());
        }
        into.insert(format!("{prefix}_n"), self.n.into());
    }
}

/// Microseconds of a duration, saturating.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `--name value` flags after the subcommand.
pub struct Flags(Vec<String>);

impl Flags {
    pub fn from_env(skip: usize) -> Self {
        Self(std::env::args().skip(skip).collect())
    }

    /// The value after `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        self.0
            .iter()
            .position(|a| *a == flag)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_string()
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: not a number: {v}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=1000).rev().collect();
        let s = Summary::of(&mut v);
        assert_eq!(
            (s.p50, s.p99, s.p999, s.max, s.min),
            (500, 990, 999, 1000, 1)
        );
        assert_eq!(Summary::of(&mut []).n, 0);
    }
}
