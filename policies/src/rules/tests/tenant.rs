//! `tenant` selectors: personal use of an app can be blocked; unknown is not personal unless a
//! rule names it; at CONNECT time the fact is unknown, so such a rule never blocks a tunnel.

use super::decide::{policy, request};
use crate::rules::*;
use crate::TenantUse;

const WORK_ONLY: &str = r#"
[[rule]]
id = "chatgpt-work-only"
when = { app = "chatgpt", tenant = "personal" }
action = "block"

[[rule]]
id = "claude-strict"
when = { app = "claude", tenant = ["personal", "unknown"] }
action = "block"
"#;

#[test]
fn personal_use_is_blocked_and_unknown_only_where_a_rule_says() {
    let p = policy(WORK_ONLY);
    let with = |app: &'static str, tenant: Option<TenantUse>| {
        let mut facts = request();
        if let Some(a) = facts.app.as_mut() {
            a.id = app;
        }
        facts.tenant = tenant;
        p.decide(&facts)
    };
    let personal = with("chatgpt", Some(TenantUse::Personal));
    assert!(personal.blocked && personal.on_tenant);
    assert_eq!(&*personal.rule_id, "chatgpt-work-only");
    for tenant in [Some(TenantUse::Corporate), Some(TenantUse::Unknown), None] {
        assert!(!with("chatgpt", tenant).blocked, "{tenant:?}");
    }
    assert!(with("claude", Some(TenantUse::Unknown)).blocked);
    assert!(!with("claude", Some(TenantUse::Corporate)).blocked);
    // No tenant control configured for the app: the fact is absent, nothing matches.
    assert!(!with("claude", None).blocked);
    let mut connect = request();
    connect.method = None;
    connect.path = None;
    assert_eq!(p.connect_decision(&connect), ConnectVerdict::Inspect);
}

#[test]
fn tenant_values_are_checked() {
    let text = "[[rule]]\nid = \"x\"\nwhen = { tenant = \"private\" }\naction = \"block\"\n";
    let err = Policy::parse("p.toml", text).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"corporate\", \"personal\" or \"unknown\""),
        "{err}"
    );
    let dni =
        "[[rule]]\nid = \"x\"\nwhen = { tenant = \"personal\" }\naction = \"do_not_inspect\"\n";
    assert!(Policy::parse("p.toml", dni).is_err());
}
