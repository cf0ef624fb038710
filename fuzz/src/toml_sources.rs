//! The security team's files: policy TOML and catalog TOML, loaded from text.

use policies::source::SourceError;
use policies::{Catalog, Policy};

const FILE: &str = "fuzz.toml";

/// Loads `text` as a policy file: it loads, or every error points into the text.
pub fn policy_toml(text: &str) -> bool {
    match Policy::parse(FILE, text) {
        Ok(_) => true,
        Err(e) => {
            check_errors(e.errors(), text);
            false
        }
    }
}

/// Loads `text` as a catalog file on its own: it loads, or every error points into the text.
pub fn catalog_toml(text: &str) -> bool {
    match Catalog::from_sources(&[(FILE, text)]) {
        Ok(_) => true,
        Err(e) => {
            check_errors(e.errors(), text);
            false
        }
    }
}

/// A refusal says where (`file:line:col` inside the text) and what, in bounded space.
fn check_errors(errors: &[SourceError], text: &str) {
    assert!(!errors.is_empty(), "refused without a reason");
    assert!(errors.len() <= text.len() + 16, "{} errors", errors.len());
    let lines = text.lines().count() + 1;
    for e in errors {
        assert_eq!(e.file, FILE);
        assert!(
            e.line >= 1 && e.line <= lines,
            "{e} (text has {lines} lines)"
        );
        assert!(e.col >= 1, "{e}");
        assert!(!e.message.trim().is_empty(), "{e:?}");
        assert!(
            e.message.len() <= 4096 + text.len(),
            "{} bytes",
            e.message.len()
        );
    }
}
