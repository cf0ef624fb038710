//! The crate used the way the daemon uses it, through the public API only: catalog match →
//! status lookup → CONNECT decision → request decision → DLP scan → final decision.

use dlp::{Confidence, DlpScanner, Finding};
use policies::catalog::{Catalog, Endpoint, HostKind};
use policies::rules::{Action, AppFacts, ConnectVerdict, Facts, Policy, Posture};
use policies::status::{AppStatus, StatusBook};

const CATALOG: &str = r#"
[[app]]
id = "chatgpt"
name = "ChatGPT"
vendor = "OpenAI"
vendor_country = "US"
category = "chat"
risk = 3
risk_reasons = ["consumer tier trains on chats"]
source = "https://example.com/"
hosts = ["chatgpt.com", "*.chatgpt.com"]
api_hosts = ["api.openai.com"]

[[app.prompt]]
method = "POST"
path = "/backend-api/conversation"
fields = ["messages.*.content.parts.*"]

[[app.upload]]
method = "POST"
host = "files.oaiusercontent.com"
path = "/**"

[[app]]
id = "deepseek"
name = "DeepSeek"
vendor = "DeepSeek"
vendor_country = "CN"
category = "chat"
risk = 5
risk_reasons = ["data stored in CN"]
source = "https://example.com/"
hosts = ["chat.deepseek.com"]
"#;

/// Flags anything containing "AKIA" under the `default` profile.
struct ToyScanner;

impl DlpScanner for ToyScanner {
    fn scan(&self, profile: &str, text: &str) -> Vec<Finding> {
        text.find("AKIA")
            .filter(|_| profile == "default")
            .map(|i| {
                Finding::new(
                    "aws-access-key",
                    i,
                    i + 20,
                    Confidence::High,
                    &text[i..i + 20],
                )
            })
            .into_iter()
            .collect()
    }
}

fn scan_and_decide(policy: &Policy, facts: &Facts<'_>, body: &str) -> policies::Verdict {
    let first = policy.decide(facts);
    if first.blocked || !first.needs_scan() {
        return first;
    }
    let matched: Vec<String> = first
        .profiles_to_scan()
        .filter(|p| !ToyScanner.scan(p, body).is_empty())
        .map(str::to_owned)
        .collect();
    policy.decide(&Facts {
        dlp_profiles_matched: Some(&matched),
        ..*facts
    })
}

#[test]
fn a_request_goes_through_every_decision() {
    let catalog = Catalog::from_sources(&[("apps.toml", CATALOG)]).unwrap();
    let mut book = StatusBook::new();
    book.set("deepseek", AppStatus::Unapproved, "secteam", 1);
    let policy = Policy::embedded_default().unwrap();
    assert!(policy.check_against(&catalog).is_empty());
    let posture = Posture::new();
    let groups = vec!["staff".to_owned()];

    // CONNECT to an unapproved app: blocked before any request.
    let m = catalog.match_url("chat.deepseek.com", "/").unwrap();
    let facts = Facts {
        app: Some(AppFacts::new(m.app, &book)),
        ..Facts::new("chat.deepseek.com")
    };
    match policy.connect_decision(&facts) {
        ConnectVerdict::Block(v) => {
            assert_eq!(&*v.rule_id, "block-unapproved");
            assert_eq!(v.policy_version.as_ref(), "builtin-default-1");
        }
        other => panic!("{other:?}"),
    }

    // An unreviewed app: intercepted, prompt scanned, secret blocked, clean prompt passes.
    let r = catalog
        .match_request("ChatGPT.com.", "POST", "/backend-api/conversation")
        .unwrap();
    assert_eq!(r.matched.kind, HostKind::Usage);
    assert!(matches!(r.endpoint, Some(Endpoint::Prompt(_))));
    let app = AppFacts::new(r.matched.app, &book);
    assert_eq!(app.status, AppStatus::Unreviewed);
    let facts = Facts {
        app: Some(app),
        path: Some("/backend-api/conversation"),
        method: Some("POST"),
        user: Some("alice"),
        groups: &groups,
        posture: &posture,
        ..Facts::new("chatgpt.com")
    };
    assert_eq!(policy.connect_decision(&facts), ConnectVerdict::Inspect);
    let v = scan_and_decide(&policy, &facts, "my key is AKIAIOSFODNN7EXAMPLE ok");
    assert_eq!(
        (&*v.rule_id, v.blocked, v.dlp_matched),
        ("dlp-until-approved", true, true)
    );
    let v = scan_and_decide(&policy, &facts, "what is the capital of France?");
    assert_eq!((&*v.rule_id, v.blocked), ("dlp-until-approved", false));

    // Its upload host: uploads blocked until approved.
    let u = catalog
        .match_request("files.oaiusercontent.com", "POST", "/file-abc")
        .unwrap();
    assert!(matches!(u.endpoint, Some(Endpoint::Upload(_))));
    let upload = Facts {
        upload: true,
        host: "files.oaiusercontent.com",
        ..facts
    };
    let v = policy.decide(&upload);
    assert_eq!(
        (&*v.rule_id, v.action.clone(), v.blocked),
        ("no-uploads-until-approved", Action::BlockUploads, true)
    );

    // Approved: audited, nothing blocked.
    book.set("chatgpt", AppStatus::Approved, "secteam", 2);
    let approved = Facts {
        app: Some(AppFacts::new(r.matched.app, &book)),
        ..facts
    };
    let v = scan_and_decide(&policy, &approved, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!((&*v.rule_id, v.blocked), ("audit-approved", false));
}

#[test]
fn the_embedded_catalog_and_default_policy_agree() {
    let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
    let policy = Policy::embedded_default().unwrap();
    assert!(policy.check_against(&catalog).is_empty());
}

#[test]
fn snapshots_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Catalog>();
    shareable::<Policy>();
    shareable::<StatusBook>();
    shareable::<policies::Verdict>();
}
