//! The shipped default policy and every example file parse, and the default does what its
//! comments promise.

use super::decide::request;
use crate::catalog::Category;
use crate::rules::*;
use crate::status::AppStatus;

#[test]
fn every_example_and_the_default_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let policy = Policy::parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
            assert!(policy.rule_ids().count() > 0, "{name} has no rules");
            names.push(name);
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "do-not-inspect.toml",
            "engineering.toml",
            "permissive-audit.toml",
            "strict.toml"
        ]
    );
    let default = Policy::embedded_default().unwrap();
    assert_eq!(default.version(), "builtin-default-1");
}

fn with_status(status: AppStatus) -> Facts<'static> {
    Facts {
        app: Some(AppFacts {
            id: "chatgpt",
            category: Category::Chat,
            status,
        }),
        ..request()
    }
}

#[test]
fn the_default_policy_table() {
    let p = Policy::embedded_default().unwrap();
    let dlp = Action::Dlp {
        profile: "default".into(),
        on_match: OnMatch::Block,
    };
    // (status, upload, rule, action, blocked)
    let cases = [
        (
            AppStatus::Unapproved,
            false,
            "block-unapproved",
            Action::Block,
            true,
        ),
        (
            AppStatus::Unapproved,
            true,
            "block-unapproved",
            Action::Block,
            true,
        ),
        (
            AppStatus::InReview,
            true,
            "no-uploads-until-approved",
            Action::BlockUploads,
            true,
        ),
        (
            AppStatus::Unreviewed,
            true,
            "no-uploads-until-approved",
            Action::BlockUploads,
            true,
        ),
        (
            AppStatus::InReview,
            false,
            "dlp-until-approved",
            dlp.clone(),
            false,
        ),
        (
            AppStatus::Unreviewed,
            false,
            "dlp-until-approved",
            dlp,
            false,
        ),
        (
            AppStatus::Approved,
            false,
            "audit-approved",
            Action::Audit {
                max_prompt_bytes: 32768,
            },
            false,
        ),
        (
            AppStatus::Approved,
            true,
            "audit-approved",
            Action::Audit {
                max_prompt_bytes: 32768,
            },
            false,
        ),
    ];
    for (status, upload, rule, action, blocked) in cases {
        let v = p.decide(&Facts {
            upload,
            ..with_status(status)
        });
        assert_eq!(
            (&*v.rule_id, v.action, v.blocked),
            (rule, action, blocked),
            "{status} upload={upload}"
        );
    }
    let found = Facts {
        dlp_profiles_matched: Some(&[]),
        ..with_status(AppStatus::InReview)
    };
    assert!(!p.decide(&found).blocked, "clean prompt passes");
    let leaked = ["default".to_owned()];
    let found = Facts {
        dlp_profiles_matched: Some(&leaked),
        ..with_status(AppStatus::InReview)
    };
    assert!(p.decide(&found).blocked, "sensitive prompt is blocked");
    let plain_web = p.decide(&Facts::new("example.org"));
    assert_eq!((&*plain_web.rule_id, plain_web.blocked), ("default", false));
    assert!(matches!(
        p.connect_decision(&with_status(AppStatus::Unapproved)),
        ConnectVerdict::Block(_)
    ));
    assert_eq!(
        p.connect_decision(&with_status(AppStatus::InReview)),
        ConnectVerdict::Inspect
    );
}

#[test]
fn example_policies_behave_as_documented() {
    let load = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        Policy::parse(name, &std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let eng = load("engineering.toml");
    let code = |groups: &'static [String]| Facts {
        app: Some(AppFacts {
            id: "github-copilot",
            category: Category::Code,
            status: AppStatus::Approved,
        }),
        groups,
        ..request()
    };
    let engineers: &'static [String] = Box::leak(Box::new(["Engineering".to_owned()]));
    assert_eq!(
        &*eng.decide(&code(&[])).rule_id,
        "code-assistants-engineering-only"
    );
    assert_ne!(
        &*eng.decide(&code(engineers)).rule_id,
        "code-assistants-engineering-only"
    );
    let no_agent: &'static Posture = Box::leak(Box::default());
    let upload = Facts {
        upload: true,
        posture: no_agent,
        ..with_status(AppStatus::Approved)
    };
    assert_eq!(&*eng.decide(&upload).rule_id, "uploads-need-encrypted-disk");
    let upload_ok = Facts {
        upload: true,
        ..with_status(AppStatus::Approved)
    };
    assert_eq!(
        &*eng.decide(&upload_ok).rule_id,
        "approved-redact-credentials"
    );

    let dni = load("do-not-inspect.toml");
    assert!(matches!(
        dni.connect_decision(&Facts::new("secure.chase.com")),
        ConnectVerdict::DoNotInspect(_)
    ));
    assert!(matches!(
        dni.connect_decision(&Facts::new("zoom.us")),
        ConnectVerdict::DoNotInspect(_)
    ));

    let strict = load("strict.toml");
    let v = strict.decide(&with_status(AppStatus::Unreviewed));
    assert_eq!(
        (&*v.rule_id, v.alternative.as_deref()),
        ("block-not-approved", Some("chatgpt"))
    );

    let audit = load("permissive-audit.toml");
    let v = audit.decide(&with_status(AppStatus::Unapproved));
    assert_eq!(
        (&*v.rule_id, v.profiles_to_scan().collect::<Vec<_>>()),
        ("audit-ai-apps", vec!["credentials"])
    );
}
