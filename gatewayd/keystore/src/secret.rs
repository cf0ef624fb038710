//! A provider key's value in memory: zeroed when dropped, never printed (`Debug` and
//! `Display` show only that it is a secret), read only through [`Secret::expose`].

use zeroize::Zeroizing;

/// A secret value.
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub(crate) fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// A secret made in memory rather than read from the store (the on-box model's
    /// per-start token).
    pub fn minted(value: String) -> Self {
        Self::new(value)
    }

    /// The value, for the one place that sends it to its provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("…")
    }
}
