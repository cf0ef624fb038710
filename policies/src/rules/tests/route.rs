//! The `route` action: opt-in per rule, never blocking, `dry_run` only on `route`.

use super::decide::{policy, request};
use crate::rules::*;

fn errors(text: &str) -> Vec<String> {
    let err = Policy::parse("p.toml", text).unwrap_err();
    err.errors().iter().map(ToString::to_string).collect()
}

#[test]
fn route_is_a_non_blocking_action_with_an_optional_dry_run() {
    let p = policy(
        r#"
[[rule]]
id = "route-openai"
when = { user = "alice@example.com" }
action = "route"

[[rule]]
id = "try-route"
action = "route"
dry_run = true
"#,
    );
    let v = p.decide(&request());
    assert_eq!(v.action, Action::Route { dry_run: false });
    assert_eq!((v.rule_id.as_ref(), v.blocked), ("route-openai", false));
    assert_eq!(v.action.name(), "route");
    let bob = Facts {
        user: Some("bob@example.com"),
        ..request()
    };
    let v = p.decide(&bob);
    assert_eq!(v.action, Action::Route { dry_run: true });
    assert!(!v.blocked);
    // The event of a dry run says what would have happened.
    assert_eq!(v.action.name(), "would_route");
}

#[test]
fn dry_run_belongs_to_route_only() {
    let errs = errors("[[rule]]\nid = \"r\"\naction = \"allow\"\ndry_run = true\n");
    assert!(
        errs.iter()
            .any(|e| e.contains("4:11") && e.contains("`dry_run` does not apply to action `allow`")),
        "{errs:?}"
    );
    let errs = errors("[[rule]]\nid = \"r\"\naction = \"route\"\ndry_run = \"yes\"\n");
    assert!(
        errs.iter().any(|e| e.contains("expected a boolean")),
        "{errs:?}"
    );
}
