//! Shared pieces for the end-to-end tests live in `tests/e2e/`; this library is intentionally empty so the crate can hold one test binary.
