//! DLP in monitor mode on approved apps in the default policy: logged, reported, not blocked,
//! and nothing new blocked elsewhere.

use super::*;
use crate::report::api;

#[test]
fn dlp_monitors_approved_apps_in_the_default_policy_and_blocks_nothing_new() {
    let s = start(None, false, "", true);
    set_status(&s, "chatgpt", "approved");
    set_status(&s, "claude", "in_review");
    let gw = &s.gw;
    let key = format!("AKIA{}", "Q7RZ4XH2LMNB5TWE");
    let prompt = format!("{{\"prompt\":\"deploy is failing: aws_access_key_id = {key}\"}}");
    let send = |url: &str| {
        as_user(
            gw,
            None,
            &[
                "-H",
                "Content-Type: application/json",
                "-H",
                "Accept: application/json",
                "-d",
                &prompt,
                url,
            ],
        )
    };
    let approved = send("https://chatgpt.com/backend-api/conversation");
    assert_eq!(
        approved.status,
        200,
        "monitor mode blocks nothing: {}",
        approved.body_text()
    );
    let in_review = send("https://claude.ai/api/organizations/o/chat_conversations/c/completion");
    assert_eq!(
        in_review.status, 403,
        "apps not approved are blocked as before"
    );
    assert_eq!(
        in_review.header("x-warden-rule"),
        Some("dlp-until-approved")
    );
    set_status(&s, "claude", "unapproved");
    let unapproved = send("https://claude.ai/api/organizations/o/chat_conversations/c/completion");
    assert_eq!(unapproved.header("x-warden-rule"), Some("block-unapproved"));

    let ch = s.clickhouse.as_ref().unwrap();
    let row = wait_query(
        ch,
        "SELECT action, blocked, rule_id, dlp_detectors FROM warden.http_events WHERE app_id = 'chatgpt' AND method = 'POST'",
        |t| !t.is_empty(),
    );
    assert_eq!(row, "audit\t0\taudit-approved\t['aws_access_key_id']");
    let finding = wait_query(
        ch,
        "SELECT detector, action, snippet FROM warden.dlp_findings WHERE app_id = 'chatgpt'",
        |t| !t.is_empty(),
    );
    assert!(
        finding.starts_with("aws_access_key_id\taudit\t"),
        "{finding}"
    );
    assert!(!finding.contains(&key[4..]), "masked: {finding}");

    // The report's DLP view shows it as seen on a sanctioned app, not blocked.
    let (status, dlp) = api(gw, &s.admin, "/api/v1/report/dlp?since=1h");
    assert_eq!(status, 200, "{dlp}");
    assert!(dlp.to_string().contains("aws_access_key_id"), "{dlp}");
}
