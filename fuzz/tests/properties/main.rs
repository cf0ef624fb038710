//! The fuzz drivers as bounded property tests on stable: each entry point gets a few hundred
//! generated inputs, most of them near-valid (a real ClientHello, a real archive, the shipped
//! policy) with random damage, so the parsers are driven past their first checks. The whole
//! set runs in well under a minute; libFuzzer (`cargo fuzz run <target>`) goes further.

mod archives;
mod client_hello;
mod dlp;
mod frames;
mod mutate;
mod requests;
mod toml_files;

use proptest::test_runner::{Config, RngSeed};

/// `cases` cases from a fixed seed, so a failure in CI reproduces anywhere; set
/// `PROPTEST_RNG_SEED` to explore other inputs. No regression files: the failing input is
/// printed, shrunk.
fn config(cases: u32) -> Config {
    let defaults = Config::default();
    let rng_seed = match std::env::var_os("PROPTEST_RNG_SEED") {
        Some(_) => defaults.rng_seed,
        None => RngSeed::Fixed(0x5741_5244_454e),
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: None,
        ..defaults
    }
}
