//! `warn` (coaching) and `monitor_profile` (DLP monitor mode): a warned app is blocked until
//! the user holds a pass, then the rules after the warning decide; monitor mode never blocks.

use super::decide::{policy, request};
use crate::rules::*;
use crate::status::AppStatus;

const WARN_THEN_DLP: &str = r#"
[[rule]]
id = "coach-in-review"
when = { status = "in_review" }
action = "warn"
message = "Be careful with company data."
alternative = "claude"

[[rule]]
id = "scan-in-review"
when = { status = "in_review" }
action = "dlp"
profile = "default"
"#;

fn in_review() -> Facts<'static> {
    let mut facts = request();
    if let Some(app) = facts.app.as_mut() {
        app.status = AppStatus::InReview;
    }
    facts
}

#[test]
fn warn_stands_in_for_the_app_until_the_user_holds_a_pass() {
    let p = policy(WARN_THEN_DLP);
    let first = p.decide(&in_review());
    assert_eq!(&*first.rule_id, "coach-in-review");
    assert_eq!(first.action, Action::Warn);
    assert!(first.blocked, "a warning answers in the app's place");
    assert_eq!(
        first.message.as_deref(),
        Some("Be careful with company data.")
    );
    assert_eq!(first.alternative.as_deref(), Some("claude"));

    // With a pass the warning steps aside: the DLP rule after it still applies.
    let coached = Facts {
        coached: true,
        ..in_review()
    };
    let second = p.decide(&coached);
    assert_eq!(&*second.rule_id, "scan-in-review");
    assert_eq!(second.coached_past.as_deref(), Some("coach-in-review"));
    assert!(second.needs_scan());
    let found = ["default".to_string()];
    let after_scan = p.decide(&Facts {
        dlp_profiles_matched: Some(&found),
        ..coached
    });
    assert!(after_scan.blocked, "a pass never lifts the DLP block");

    // A pass for an approved app changes nothing: the warning was never in force there.
    let approved = p.decide(&Facts {
        coached: true,
        ..request()
    });
    assert_eq!(&*approved.rule_id, "default");
    assert_eq!(approved.coached_past, None);
}

#[test]
fn warn_is_decided_per_request_never_at_connect() {
    let p = policy(WARN_THEN_DLP);
    assert_eq!(p.connect_decision(&in_review()), ConnectVerdict::Inspect);
}

#[test]
fn warn_takes_only_page_keys() {
    let err = Policy::parse(
        "p.toml",
        "[[rule]]\nid = \"w\"\naction = \"warn\"\nprofile = \"default\"\n",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`profile` does not apply to action `warn`"),
        "{err}"
    );
}

#[test]
fn monitor_profile_scans_without_ever_blocking() {
    let p = policy(
        r#"
[[rule]]
id = "audit-approved"
when = { status = "approved" }
action = "audit"
monitor_profile = "default"
"#,
    );
    let verdict = p.decide(&request());
    assert_eq!(verdict.monitor_profile.as_deref(), Some("default"));
    assert!(!verdict.blocked);
    assert!(
        !verdict.needs_scan(),
        "monitoring is not a scan the verdict waits on"
    );
    assert!(
        p.dlp_profiles().contains(&"default"),
        "the engine check sees it"
    );
    let found = ["default".to_string()];
    let again = p.decide(&Facts {
        dlp_profiles_matched: Some(&found),
        ..request()
    });
    assert!(!again.blocked);

    for (action, ok) in [
        ("allow", true),
        ("block", false),
        ("dlp", false),
        ("warn", false),
    ] {
        let extra = if action == "dlp" {
            "profile = \"pii\"\n"
        } else {
            ""
        };
        let text = format!(
            "[[rule]]\nid = \"m\"\naction = \"{action}\"\n{extra}monitor_profile = \"default\"\n"
        );
        assert_eq!(Policy::parse("p.toml", &text).is_ok(), ok, "{action}");
    }
}

#[test]
fn the_default_policy_monitors_approved_apps_and_blocks_as_before() {
    let p = Policy::embedded_default().unwrap();
    let approved = p.decide(&request());
    assert_eq!(approved.monitor_profile.as_deref(), Some("default"));
    assert!(matches!(approved.action, Action::Audit { .. }));
    let found = ["default".to_string()];
    for status in [
        AppStatus::Unapproved,
        AppStatus::InReview,
        AppStatus::Unreviewed,
    ] {
        let mut facts = request();
        if let Some(app) = facts.app.as_mut() {
            app.status = status;
        }
        facts.dlp_profiles_matched = Some(&found);
        assert!(
            p.decide(&facts).blocked,
            "{status} with a finding stays blocked"
        );
        assert!(p.decide(&facts).monitor_profile.is_none());
    }
}
