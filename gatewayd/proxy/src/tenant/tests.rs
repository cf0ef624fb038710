use super::*;
use config::AppTenant;

const OURS: &str = "437adf77-4085-4b22-b7b1-de7b6f5ec6c0";
const THEIRS: &str = "11111111-2222-3333-4444-555555555555";

fn controls(apps: &[(&str, AppTenant)]) -> Result<TenantControls, TenantConfigError> {
    let catalog = Catalog::embedded().unwrap();
    let config: TenantsConfig = apps
        .iter()
        .map(|(id, t)| (id.to_string(), t.clone()))
        .collect();
    TenantControls::build(&config, &catalog)
}

fn ids(ids: &[&str]) -> AppTenant {
    AppTenant {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn account_ids_classify_requests() {
    let c = controls(&[("chatgpt", ids(&[OURS])), ("claude", ids(&[OURS]))]).unwrap();
    let chatgpt = c.for_host("chatgpt.com").unwrap();
    let claude = c.for_host("CLAUDE.AI.").unwrap();
    assert!(c.for_host("example.com").is_none());
    assert!(
        c.for_host("chat.openai.com").is_none(),
        "OpenAI names chatgpt.com only"
    );

    let classify =
        |t: &TenantControl, path: &str, h: &[(&str, &str)]| t.classify(path, None, &headers(h));
    let upper = OURS.to_uppercase();
    assert_eq!(
        classify(
            chatgpt,
            "/backend-api/conversation",
            &[("chatgpt-account-id", &upper)]
        ),
        TenantUse::Corporate
    );
    assert_eq!(
        classify(chatgpt, "/x", &[("chatgpt-account-id", THEIRS)]),
        TenantUse::Personal
    );
    assert_eq!(classify(chatgpt, "/x", &[]), TenantUse::Unknown);
    // One foreign id among the organisation's is personal use.
    assert_eq!(
        classify(
            chatgpt,
            "/x",
            &[("chatgpt-account-id", OURS), ("chatgpt-account-id", THEIRS)]
        ),
        TenantUse::Personal
    );
    let path = format!("/api/organizations/{THEIRS}/chat_conversations/1/completion");
    assert_eq!(classify(claude, &path, &[]), TenantUse::Personal);
    let path = format!("/api/organizations/{OURS}/chat_conversations");
    assert_eq!(classify(claude, &path, &[]), TenantUse::Corporate);
    let cookie = format!("a=b; lastActiveOrg=\"{THEIRS}\"; c=d");
    assert_eq!(
        classify(claude, &path, &[("cookie", &cookie)]),
        TenantUse::Personal
    );
    let cookie = format!("lastActiveOrg={OURS}");
    assert_eq!(
        classify(claude, "/", &[("cookie", &cookie)]),
        TenantUse::Corporate
    );
    // Huge or odd values are one identifier each, never ours.
    let huge = "a".repeat(8000);
    assert_eq!(
        classify(chatgpt, "/x", &[("chatgpt-account-id", &huge)]),
        TenantUse::Personal
    );
    assert_eq!(
        classify(chatgpt, "/x", &[("chatgpt-account-id", "")]),
        TenantUse::Unknown
    );
}

#[test]
fn client_copies_are_replaced_not_duplicated() {
    let c = controls(&[("claude", ids(&[OURS, THEIRS]))]).unwrap();
    let claude = c.for_host("api.anthropic.com").unwrap();
    let mut h = headers(&[
        ("anthropic-allowed-org-ids", "evil;n=2"),
        ("anthropic-allowed-org-ids", "evil2"),
        ("anthropic-allowed-org-ids1", "evil3"),
        ("anthropic-allowed-org-ids-other", "kept"),
        ("x-keep", "1"),
    ]);
    claude.inject(&mut h);
    let sent: Vec<_> = h.get_all("anthropic-allowed-org-ids").iter().collect();
    assert_eq!(sent, [format!("{OURS},{THEIRS}").as_str()]);
    assert!(!h.contains_key("anthropic-allowed-org-ids1"));
    assert_eq!(h["anthropic-allowed-org-ids-other"], "kept");
    assert_eq!(h["x-keep"], "1");
}

#[test]
fn microsoft_sends_what_is_configured() {
    let m365 = AppTenant {
        ids: vec!["contoso.com".into(), "contoso.onmicrosoft.com".into()],
        context: Some(OURS.into()),
        policy: None,
    };
    let c = controls(&[("microsoft-365-copilot", m365)]).unwrap();
    let login = c.for_host("login.microsoftonline.com").unwrap();
    let mut h = headers(&[("sec-restrict-tenant-access-policy", "client-chosen")]);
    login.inject(&mut h);
    assert_eq!(
        h["restrict-access-to-tenants"],
        "contoso.com,contoso.onmicrosoft.com"
    );
    assert_eq!(h["restrict-access-context"], OURS);
    // Not configured: not sent, and the client's own is not passed on either.
    assert!(!h.contains_key("sec-restrict-tenant-access-policy"));
}

#[test]
fn configuration_the_catalog_cannot_serve_is_refused() {
    let err = |apps: &[(&str, AppTenant)]| controls(apps).unwrap_err().to_string();
    assert!(err(&[("no-such-app", ids(&[OURS]))]).contains("has no app"));
    assert!(err(&[("perplexity", ids(&[OURS]))]).contains("no tenant hint"));
    let policy_only = AppTenant {
        policy: Some("x".into()),
        ..Default::default()
    };
    assert!(err(&[("chatgpt", policy_only)]).contains("none of the values"));
}
