//! Warning pages, Continue and its pass: who may continue, how, for how long, and what the
//! events and the dashboard show of the justification.

use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::support::curl;

#[test]
fn a_warned_user_continues_with_a_logged_justification_and_the_pass_is_theirs_alone() {
    let s = start(Some(POLICY), true, "", true);
    set_status(&s, "chatgpt", "in_review");
    let gw = &s.gw;

    // The coaching page names the app, says why, and carries the forms.
    let warned = page(gw, Some("alice"), "https://chatgpt.com/c/1?x=2");
    assert_eq!(warned.status, 403, "{}", warned.body_text());
    assert_eq!(warned.header("x-warden-action"), Some("warn"));
    assert_eq!(warned.header("x-warden-rule"), Some("coach-in-review"));
    let body = warned.body_text();
    assert!(body.contains("ChatGPT is still being reviewed"), "{body}");
    assert!(body.contains("Continue to ChatGPT") && body.contains("Request access"));
    let csp = warned.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(
        warned.header("cross-origin-opener-policy"),
        Some("same-origin")
    );
    let alices = ticket_of(&warned);

    // A single-page app's fetch() gets the JSON error, and no ticket.
    let fetched = as_user(
        gw,
        Some("alice"),
        &[
            "-H",
            "Sec-Fetch-Mode: cors",
            "-H",
            "Sec-Fetch-Dest: empty",
            "https://chatgpt.com/backend-api/me",
        ],
    );
    let value: Value = serde_json::from_slice(&fetched.body).unwrap();
    assert_eq!(value["error"]["type"], "warn", "{value}");
    assert!(!fetched.body_text().contains("wt_"));

    // Bob cannot use alice's ticket, and his own requests stay warned.
    let stolen = post_form(gw, Some("bob"), CONTINUE, &[("ticket", &alices)], &[]);
    assert_eq!(stolen.status, 403);
    assert_eq!(
        stolen.header("x-warden-rule"),
        Some("coaching.ticket_other_user")
    );

    // A post from another origin, without one, or from a script, is refused.
    let no_origin = as_user(
        gw,
        Some("alice"),
        &["--data-urlencode", &format!("ticket={alices}"), CONTINUE],
    );
    assert_eq!(no_origin.header("x-warden-rule"), Some("coaching.origin"));
    let cross = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices)],
        &["-H", "Origin: https://evil.test"],
    );
    assert_eq!(cross.header("x-warden-rule"), Some("coaching.origin"));
    let two = as_user(
        gw,
        Some("alice"),
        &[
            "--data-urlencode",
            &format!("ticket={alices}"),
            "-H",
            "Origin: https://chatgpt.com",
            "-H",
            "Origin: https://evil.test",
            CONTINUE,
        ],
    );
    assert_eq!(
        two.header("x-warden-rule"),
        Some("coaching.origin"),
        "two Origins"
    );
    let scripted = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices)],
        &["-H", "Sec-Fetch-Mode: cors", "-H", "Sec-Fetch-Dest: empty"],
    );
    assert_eq!(
        scripted.header("x-warden-rule"),
        Some("coaching.not_a_click")
    );
    let get = as_user(
        gw,
        Some("alice"),
        &["-H", "Origin: https://chatgpt.com", CONTINUE],
    );
    assert_eq!(get.status, 405);
    let forged = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", "wt_forgedforgedforgedforgedforgedforged")],
        &[],
    );
    assert_eq!(
        forged.header("x-warden-rule"),
        Some("coaching.ticket_unknown")
    );

    // Oversize justification: refused before the ticket is spent; an oversize body: 413.
    let long = "x".repeat(501);
    let too_long = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("justification", &long)],
        &[],
    );
    assert_eq!(too_long.status, 400);
    assert_eq!(
        too_long.header("x-warden-rule"),
        Some("coaching.text_too_long")
    );
    let huge = "y".repeat(20_000);
    let too_big = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("pad", &huge)],
        &[],
    );
    assert_eq!(too_big.status, 413);

    // Continue, with HTML in the justification: back to the warned page, with a pass.
    let why = "<script>alert(1)</script> drafting the Q3 memo";
    let done = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("justification", why)],
        &[],
    );
    assert_eq!(done.status, 303, "{}", done.body_text());
    assert_eq!(done.header("location"), Some("/c/1?x=2"));
    assert_eq!(done.header("x-warden-action"), Some("continue"));
    let replay = post_form(gw, Some("alice"), CONTINUE, &[("ticket", &alices)], &[]);
    assert_eq!(
        replay.header("x-warden-rule"),
        Some("coaching.ticket_unknown")
    );

    let passed = page(gw, Some("alice"), "https://chatgpt.com/c/1");
    assert_eq!(passed.status, 200, "{}", passed.body_text());
    assert!(passed.body_text().contains("origin page /c/1"));
    let bobs = page(gw, Some("bob"), "https://chatgpt.com/c/1");
    assert_eq!(
        bobs.header("x-warden-action"),
        Some("warn"),
        "a pass is one person's"
    );

    // The pass lifts the warning, not the rules after it: a secret is still stopped.
    let key = format!("AKIA{}", "Q7RZ4XH2LMNB5TWE");
    let secret = as_user(
        gw,
        Some("alice"),
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!("{{\"prompt\":\"aws_access_key_id = {key}\"}}"),
            "https://chatgpt.com/backend-api/conversation",
        ],
    );
    assert_eq!(secret.status, 403);
    assert_eq!(secret.header("x-warden-rule"), Some("dlp-until-approved"));

    // The events: the warning, the Continue with its justification, the request it allowed.
    let ch = s.clickhouse.as_ref().unwrap();
    let cont = wait_query(
        ch,
        "SELECT user, app_id, rule_id, blocked, detail FROM warden.http_events WHERE action = 'continue'",
        |t| !t.is_empty(),
    );
    assert!(
        cont.starts_with("alice\tchatgpt\tcoach-in-review\t0\t"),
        "{cont}"
    );
    assert!(
        cont.contains("justification: <script>alert(1)</script> drafting the Q3 memo"),
        "{cont}"
    );
    let after = wait_query(
        ch,
        "SELECT action, detail FROM warden.http_events WHERE user = 'alice' AND path = '/c/1' AND status = 200",
        |t| !t.is_empty(),
    );
    assert!(after.contains("drafting the Q3 memo"), "{after}");
    // A warning is its own outcome, never counted as blocked.
    let warned_rows = query(
        ch,
        "SELECT countIf(blocked = 0), countIf(blocked = 1) FROM warden.http_events \
         WHERE action = 'warn'",
    );
    assert!(
        warned_rows.ends_with("\t0") && !warned_rows.starts_with("0\t"),
        "{warned_rows}"
    );

    // On the dashboard's event page the justification is text, never markup.
    let id = query(
        ch,
        "SELECT request_id FROM warden.http_events WHERE action = 'continue'",
    );
    let jar = s.dir.path().join("cookies").display().to_string();
    let base = format!("http://{}", gw.admin);
    let login = curl(&[
        "-c",
        &jar,
        "--data-urlencode",
        &format!("token={}", s.admin),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303, "{}", login.body_text());
    let event = curl(&["-b", &jar, &format!("{base}/events/{id}")]);
    assert_eq!(event.status, 200, "{}", event.body_text());
    let html = event.body_text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; drafting the Q3 memo"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
}

#[test]
fn an_expired_ticket_or_pass_is_refused() {
    let s = start(
        Some(POLICY),
        true,
        "ticket_ttl = \"1s\"\npass_duration = \"2s\"\n",
        false,
    );
    set_status(&s, "chatgpt", "in_review");
    let gw = &s.gw;
    let stale = ticket_of(&page(gw, Some("alice"), "https://chatgpt.com/"));
    std::thread::sleep(Duration::from_millis(1300));
    let late = post_form(gw, Some("alice"), CONTINUE, &[("ticket", &stale)], &[]);
    assert_eq!(late.status, 403);
    assert_eq!(
        late.header("x-warden-rule"),
        Some("coaching.ticket_expired")
    );

    let fresh = ticket_of(&page(gw, Some("alice"), "https://chatgpt.com/"));
    assert_eq!(
        post_form(gw, Some("alice"), CONTINUE, &[("ticket", &fresh)], &[]).status,
        303
    );
    assert_eq!(page(gw, Some("alice"), "https://chatgpt.com/").status, 200);
    std::thread::sleep(Duration::from_millis(2300));
    let again = page(gw, Some("alice"), "https://chatgpt.com/");
    assert_eq!(
        again.header("x-warden-action"),
        Some("warn"),
        "the pass ended"
    );
}
