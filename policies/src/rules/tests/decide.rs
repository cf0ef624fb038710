//! Decision tables: facts in, verdict out — every selector, every action, ordering rules.

use crate::catalog::Category;
use crate::rules::*;
use crate::status::AppStatus;

pub(super) fn policy(text: &str) -> Policy {
    Policy::parse("p.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn leak_strings(items: &[&str]) -> &'static [String] {
    Box::leak(
        items
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

fn leak_posture(items: &[(&str, &str)]) -> &'static Posture {
    Box::leak(Box::new(
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    ))
}

fn chat(status: AppStatus) -> Option<AppFacts<'static>> {
    Some(AppFacts {
        id: "chatgpt",
        category: Category::Chat,
        status,
    })
}

/// A request to an approved chat app by alice (group staff) from Germany.
pub(super) fn request() -> Facts<'static> {
    Facts {
        path: Some("/backend-api/conversation"),
        app: chat(AppStatus::Approved),
        user: Some("alice@example.com"),
        groups: leak_strings(&["staff"]),
        posture: leak_posture(&[("disk_encrypted", "true"), ("os", "macos")]),
        country: Some("DE"),
        method: Some("POST"),
        ..Facts::new("chatgpt.com")
    }
}

fn rule_of(p: &Policy, f: &Facts<'_>) -> String {
    p.decide(f).rule_id.to_string()
}

#[test]
fn every_selector_matches_and_misses() {
    type Tweak = fn(Facts<'static>) -> Facts<'static>;
    let cases: &[(&str, Tweak)] = &[
        (r#"app = "chatgpt""#, |f| Facts {
            app: Some(AppFacts {
                id: "claude",
                ..f.app.unwrap()
            }),
            ..f
        }),
        (r#"app = ["claude", "chatgpt"]"#, |f| Facts {
            app: None,
            ..f
        }),
        (r#"category = "chat""#, |f| Facts {
            app: Some(AppFacts {
                category: Category::Code,
                ..f.app.unwrap()
            }),
            ..f
        }),
        (r#"status = "approved""#, |f| Facts {
            app: chat(AppStatus::InReview),
            ..f
        }),
        (r#"status = ["approved", "in_review"]"#, |f| Facts {
            app: None,
            ..f
        }),
        (r#"host = "chatgpt.com""#, |f| Facts {
            host: "chat.openai.com",
            ..f
        }),
        (r#"host = "*.CHATGPT.com""#, |f| f),
        (r#"host = ["x.example", "chatgpt.com/backend-api"]"#, |f| {
            Facts {
                path: Some("/auth"),
                ..f
            }
        }),
        (r#"user = "Alice@Example.com""#, |f| Facts {
            user: Some("bob@example.com"),
            ..f
        }),
        (r#"user = "alice@example.com""#, |f| Facts {
            user: None,
            ..f
        }),
        (r#"group = ["engineering", "staff"]"#, |f| Facts {
            groups: leak_strings(&["sales"]),
            ..f
        }),
        (r#"group = "STAFF""#, |f| Facts { groups: &[], ..f }),
        (r#"posture = { disk_encrypted = true }"#, |f| Facts {
            posture: leak_posture(&[("disk_encrypted", "false")]),
            ..f
        }),
        (
            r#"posture = { disk_encrypted = true, os = "macOS" }"#,
            |f| Facts {
                posture: leak_posture(&[("disk_encrypted", "true")]),
                ..f
            },
        ),
        (r#"posture_signed = false"#, |f| Facts {
            posture_signed: true,
            ..f
        }),
        (r#"country = ["us", "DE"]"#, |f| Facts {
            country: Some("FR"),
            ..f
        }),
        (r#"country = "DE""#, |f| Facts { country: None, ..f }),
        (r#"method = ["post", "PUT"]"#, |f| Facts {
            method: Some("GET"),
            ..f
        }),
        (r#"upload = false"#, |f| Facts { upload: true, ..f }),
        (r#"dlp_profile = "credentials""#, |f| Facts {
            dlp_profiles_matched: Some(leak_strings(&["pii"])),
            ..f
        }),
    ];
    for (when, miss) in cases {
        if *when == r#"host = "*.CHATGPT.com""# {
            // Patterns are lowercase; the mistake is reported, not silently normalised.
            assert!(Policy::parse(
                "p.toml",
                &format!("[[rule]]\nid = \"r\"\nwhen = {{ {when} }}\naction = \"block\"\n")
            )
            .is_err());
            continue;
        }
        let p = policy(&format!(
            "[[rule]]\nid = \"r\"\nwhen = {{ {when} }}\naction = \"block\"\n"
        ));
        let mut hit = request();
        if when.starts_with("dlp_profile") {
            hit.dlp_profiles_matched = Some(leak_strings(&["pii", "credentials"]));
        }
        let v = p.decide(&hit);
        assert_eq!((&*v.rule_id, v.blocked), ("r", true), "{when} should match");
        assert_eq!(rule_of(&p, &miss(hit)), "default", "{when} should miss");
    }
}

#[test]
fn a_rule_can_require_signed_posture() {
    let p = policy(
        r#"
[[rule]]
id = "needs-managed-disk"
when = { category = "chat" }
unless = { posture = { disk_encrypted = true }, posture_signed = true }
action = "block"
"#,
    );
    let reported = request();
    assert_eq!(
        rule_of(&p, &reported),
        "needs-managed-disk",
        "what the device says is not enough"
    );
    let signed = Facts {
        posture_signed: true,
        ..request()
    };
    assert_eq!(rule_of(&p, &signed), "default");
    let signed_unencrypted = Facts {
        posture: leak_posture(&[("disk_encrypted", "false")]),
        ..signed
    };
    assert_eq!(rule_of(&p, &signed_unencrypted), "needs-managed-disk");
}

#[test]
fn selectors_combine_with_and_and_unless_excludes() {
    let p = policy(
        r#"
[[rule]]
id = "eng-code"
when = { category = "chat", group = "staff", country = "DE" }
unless = { user = "alice@example.com" }
action = "block"
"#,
    );
    assert_eq!(rule_of(&p, &request()), "default", "unless excludes alice");
    let bob = Facts {
        user: Some("bob@example.com"),
        ..request()
    };
    assert_eq!(rule_of(&p, &bob), "eng-code");
    assert_eq!(
        rule_of(
            &p,
            &Facts {
                country: Some("US"),
                ..bob
            }
        ),
        "default",
        "all of when"
    );
}

#[test]
fn every_action_yields_its_verdict() {
    let p = policy(
        r#"
version = "t1"
[[rule]]
id = "allow"
when = { user = "allow" }
action = "allow"
[[rule]]
id = "block"
when = { user = "block" }
action = "block"
message = "No."
alternative = "copilot"
[[rule]]
id = "dlp"
when = { user = "dlp" }
action = "dlp"
profile = "default"
on_match = "redact"
[[rule]]
id = "dlp-block"
when = { user = "dlp-block" }
action = "dlp"
profile = "pii"
[[rule]]
id = "uploads"
when = { user = "uploads" }
action = "block_uploads"
[[rule]]
id = "isolate"
when = { user = "isolate" }
action = "isolate"
[[rule]]
id = "audit"
when = { user = "audit" }
action = "audit"
max_prompt_bytes = 100
[[rule]]
id = "audit-default"
when = { user = "audit-default" }
action = "audit"
[[rule]]
id = "dni"
when = { user = "dni" }
action = "do_not_inspect"
"#,
    );
    let d = |user: &'static str, tweak: fn(Facts<'static>) -> Facts<'static>| {
        p.decide(&tweak(Facts {
            user: Some(user),
            ..request()
        }))
    };
    let same = |f| f;
    let v = d("allow", same);
    assert_eq!(
        (&*v.rule_id, &*v.policy_version, v.action.clone(), v.blocked),
        ("allow", "t1", Action::Allow, false)
    );
    let v = d("block", same);
    assert_eq!((v.action.clone(), v.blocked), (Action::Block, true));
    assert_eq!(
        (v.message.as_deref(), v.alternative.as_deref()),
        (Some("No."), Some("copilot"))
    );

    let v = d("dlp", same);
    assert_eq!(
        v.action,
        Action::Dlp {
            profile: "default".into(),
            on_match: OnMatch::Redact
        }
    );
    assert!(!v.blocked && !v.dlp_matched && v.needs_scan());
    assert_eq!(v.profiles_to_scan().collect::<Vec<_>>(), ["default"]);
    let v = d("dlp", |f| Facts {
        dlp_profiles_matched: Some(leak_strings(&["default"])),
        ..f
    });
    assert!(!v.blocked && v.dlp_matched, "redact does not block");
    let v = d("dlp-block", |f| Facts {
        dlp_profiles_matched: Some(leak_strings(&["pii"])),
        ..f
    });
    assert!(v.blocked && v.dlp_matched, "on_match defaults to block");
    let v = d("dlp-block", |f| Facts {
        dlp_profiles_matched: Some(&[]),
        ..f
    });
    assert!(!v.blocked && !v.dlp_matched, "a clean scan passes");

    let v = d("uploads", |f| Facts { upload: true, ..f });
    assert_eq!((&*v.rule_id, v.blocked), ("uploads", true));
    assert_eq!(
        d("uploads", same).rule_id.as_ref(),
        "default",
        "non-uploads fall through"
    );

    assert!(d("isolate", same).blocked, "POST is blocked in view-only");
    assert!(
        !d("isolate", |f| Facts {
            method: Some("get"),
            ..f
        })
        .blocked
    );
    assert!(
        d("isolate", |f| Facts {
            method: Some("GET"),
            upload: true,
            ..f
        })
        .blocked
    );
    assert!(
        d("isolate", |f| Facts { method: None, ..f }).blocked,
        "unknown method fails closed"
    );

    assert_eq!(
        d("audit", same).action,
        Action::Audit {
            max_prompt_bytes: 100
        }
    );
    assert_eq!(
        d("audit-default", same).action,
        Action::Audit {
            max_prompt_bytes: DEFAULT_AUDIT_BYTES
        }
    );
    let v = d("dni", same);
    assert_eq!((v.action.clone(), v.blocked), (Action::DoNotInspect, false));
    assert_eq!(v.action.name(), "do_not_inspect");
}

#[test]
fn first_match_wins_and_default_allows() {
    let p = policy(
        r#"
[[rule]]
id = "first"
when = { status = "approved" }
action = "audit"
[[rule]]
id = "second"
when = { app = "chatgpt" }
action = "block"
"#,
    );
    assert_eq!(rule_of(&p, &request()), "first");
    let in_review = Facts {
        app: chat(AppStatus::InReview),
        ..request()
    };
    assert_eq!(rule_of(&p, &in_review), "second");
    let v = p.decide(&Facts::new("example.org"));
    assert_eq!(
        (&*v.rule_id, v.action.clone(), v.blocked),
        ("default", Action::Allow, false)
    );
    assert!(
        v.policy_version.starts_with("sha256:"),
        "{}",
        v.policy_version
    );
    let empty = policy("");
    assert_eq!(rule_of(&empty, &request()), "default");
}

#[test]
fn do_not_inspect_runs_first_wherever_it_is_written() {
    let p = policy(
        r#"
[[rule]]
id = "block-all"
action = "block"
[[rule]]
id = "bank"
when = { host = "*.bank.example" }
action = "do_not_inspect"
"#,
    );
    assert_eq!(p.rule_ids().collect::<Vec<_>>(), ["bank", "block-all"]);
    let bank = Facts::new("WWW.Bank.Example.");
    assert_eq!(rule_of(&p, &bank), "bank");
    match p.connect_decision(&bank) {
        ConnectVerdict::DoNotInspect(v) => assert_eq!(&*v.rule_id, "bank"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.do_not_inspect(&bank).map(|v| v.rule_id.to_string()),
        Some("bank".into())
    );
    assert!(
        p.do_not_inspect(&Facts::new("bank.example")).is_none(),
        "apex not covered"
    );
    assert!(matches!(
        p.connect_decision(&Facts::new("x.example")),
        ConnectVerdict::Block(_)
    ));
}

#[test]
fn connect_decisions_stay_exact() {
    let p = policy(
        r#"
[[rule]]
id = "reads-ok"
when = { app = "chatgpt", method = "GET" }
action = "allow"
[[rule]]
id = "block-chatgpt"
when = { app = "chatgpt" }
action = "block"
[[rule]]
id = "block-claude"
when = { app = "claude" }
unless = { country = "DE" }
action = "block"
[[rule]]
id = "prefixed"
when = { host = "www.bing.com/chat" }
action = "block"
[[rule]]
id = "block-bing"
when = { host = "www.bing.com" }
action = "block"
"#,
    );
    let chatgpt = Facts {
        app: chat(AppStatus::Approved),
        ..Facts::new("chatgpt.com")
    };
    assert_eq!(
        p.connect_decision(&chatgpt),
        ConnectVerdict::Inspect,
        "GETs may be allowed"
    );
    let claude = Facts {
        app: Some(AppFacts {
            id: "claude",
            ..chat(AppStatus::Approved).unwrap()
        }),
        ..Facts::new("claude.ai")
    };
    assert_eq!(
        p.connect_decision(&Facts {
            country: Some("DE"),
            ..claude
        }),
        ConnectVerdict::Inspect
    );
    match p.connect_decision(&Facts {
        country: Some("US"),
        ..claude
    }) {
        ConnectVerdict::Block(v) => assert_eq!((&*v.rule_id, v.blocked), ("block-claude", true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.connect_decision(&Facts::new("www.bing.com")),
        ConnectVerdict::Inspect,
        "path unknown"
    );
    assert_eq!(
        rule_of(
            &p,
            &Facts {
                path: Some("/search"),
                method: Some("GET"),
                ..Facts::new("www.bing.com")
            }
        ),
        "block-bing"
    );
    assert_eq!(
        p.connect_decision(&Facts::new("example.org")),
        ConnectVerdict::Inspect
    );
}

#[test]
fn dlp_selectors_wait_for_scan_results() {
    let p = policy(
        r#"
[[rule]]
id = "no-code-in-chat"
when = { category = "chat", dlp_profile = ["source-code", "secrets"] }
action = "block"
[[rule]]
id = "scan-chat"
when = { category = "chat" }
action = "dlp"
profile = "pii"
on_match = "log"
"#,
    );
    let first = p.decide(&request());
    assert_eq!(&*first.rule_id, "scan-chat");
    assert_eq!(
        first.profiles_to_scan().collect::<Vec<_>>(),
        ["source-code", "secrets", "pii"]
    );
    let found = Facts {
        dlp_profiles_matched: Some(leak_strings(&["secrets"])),
        ..request()
    };
    let v = p.decide(&found);
    assert_eq!(
        (&*v.rule_id, v.blocked, v.needs_scan()),
        ("no-code-in-chat", true, false)
    );
    let clean = Facts {
        dlp_profiles_matched: Some(leak_strings(&["pii"])),
        ..request()
    };
    let v = p.decide(&clean);
    assert_eq!(
        (&*v.rule_id, v.blocked, v.dlp_matched),
        ("scan-chat", false, true)
    );
    assert!(v.pending_dlp_profiles.is_empty());
    let p2 = policy("[[rule]]\nid = \"d\"\nwhen = { dlp_profile = \"x\" }\naction = \"block\"\n");
    let v = p2.decide(&request());
    assert_eq!(
        (&*v.rule_id, v.needs_scan()),
        ("default", true),
        "default waits for the scan too"
    );
    assert_eq!(p.dlp_profiles(), ["source-code", "secrets", "pii"]);
}

#[test]
fn unusual_hosts_never_match_host_rules() {
    let p =
        policy("[[rule]]\nid = \"h\"\nwhen = { host = \"*.example.com\" }\naction = \"block\"\n");
    for host in [
        "",
        ".",
        "example.com",
        "a.example.com:443",
        "10.0.0.1",
        "[::1]",
        "a b.example.com",
    ] {
        assert_eq!(rule_of(&p, &Facts::new(host)), "default", "{host:?}");
    }
    assert_eq!(rule_of(&p, &Facts::new("A.Example.COM.")), "h");
    assert_eq!(rule_of(&p, &Facts::new("ä.example.com")), "h");
}
