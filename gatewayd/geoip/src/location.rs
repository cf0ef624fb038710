//! The answer to "where is this address": what an event row records.
//!
//! Plain data only; it never carries anything that identifies the database it came from.

use serde::{Deserialize, Serialize};

/// Where an address is, as far as the database knows.
///
/// Both fields are `None` for private, loopback and unknown addresses, and when no
/// database answers. Serialises as `{"country": "DE", "city": "Berlin"}` (nulls when unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2 country code, for example `"DE"`.
    pub country: Option<String>,
    /// The city's English name, for example `"Berlin"`.
    pub city: Option<String>,
}

impl Location {
    /// True when the database said nothing about the address.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.city.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_flat_object() {
        let loc = Location {
            country: Some("DE".into()),
            city: Some("Berlin".into()),
        };
        assert_eq!(
            serde_json::to_string(&loc).unwrap(),
            r#"{"country":"DE","city":"Berlin"}"#
        );
        assert_eq!(
            serde_json::to_string(&Location::default()).unwrap(),
            r#"{"country":null,"city":null}"#
        );
        assert!(Location::default().is_empty());
        assert!(!loc.is_empty());
    }
}
