//! Durations written the way people write them in config files: `500ms`, `10s`, `5m`, `1h`,
//! `30d`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration read from the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub const fn secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Parses `NUMBER UNIT` with unit ms, s, m, h or d.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("duration {text:?} needs a unit: ms, s, m, h or d"))?;
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("duration {text:?} must start with a whole number"))?;
        let millis = match unit.trim() {
            "ms" => Some(number),
            "s" => number.checked_mul(1_000),
            "m" => number.checked_mul(60_000),
            "h" => number.checked_mul(3_600_000),
            "d" => number.checked_mul(86_400_000),
            other => {
                return Err(format!(
                    "unknown duration unit {other:?}: use ms, s, m, h or d"
                ))
            }
        }
        .ok_or_else(|| format!("duration {text:?} is too long"))?;
        Ok(Self(Duration::from_millis(millis)))
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0.as_millis())
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(
            ConfigDuration::parse("250ms").unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!(
            ConfigDuration::parse("10s").unwrap().0,
            Duration::from_secs(10)
        );
        assert_eq!(
            ConfigDuration::parse("2m").unwrap().0,
            Duration::from_secs(120)
        );
        assert_eq!(
            ConfigDuration::parse("1h").unwrap().0,
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "10", "s", "1.5s", "10 parsecs", "99999999999999999999h"] {
            assert!(ConfigDuration::parse(bad).is_err(), "{bad:?}");
        }
    }
}
