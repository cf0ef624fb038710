//! Matching tables: host and path in, app and host kind (and endpoint) out.

mod load;

use super::*;

pub(super) const FIXTURE: &str = r#"
[[app]]
id = "chatgpt"
name = "ChatGPT"
vendor = "OpenAI"
vendor_country = "US"
category = "chat"
risk = 3
risk_reasons = ["trains on consumer chats unless opted out"]
source = "https://example.com/"
hosts = ["chatgpt.com", "*.chatgpt.com", "chat.openai.com"]
support_hosts = ["cdn.oaistatic.com"]
api_hosts = ["api.openai.com"]

[[app.prompt]]
method = "POST"
path = "/backend-api/conversation"
fields = ["messages.*.content.parts.*"]

[[app.upload]]
method = "POST"
host = "files.oaiusercontent.com"
path = "/**"

[[app.upload]]
method = "PUT"
path = "/backend-api/files/*"

[[app]]
id = "bing-chat"
name = "Copilot in Bing"
vendor = "Microsoft"
vendor_country = "US"
category = "chat"
risk = 2
risk_reasons = ["enterprise data protection with work accounts"]
source = "https://example.com/"
hosts = ["www.bing.com/chat", "www.bing.com/turing/conversation"]

[[app]]
id = "bing-turing"
name = "Bing Turing (test)"
vendor = "Microsoft"
vendor_country = "US"
category = "search"
risk = 1
risk_reasons = ["test entry for longest prefix"]
source = "https://example.com/"
hosts = ["www.bing.com/turing"]

[[app]]
id = "bing"
name = "Bing"
vendor = "Microsoft"
vendor_country = "US"
category = "search"
risk = 1
risk_reasons = ["search engine"]
source = "https://example.com/"
hosts = ["www.bing.com"]

[[app]]
id = "internal-llm"
name = "Internal LLM"
vendor = "Us"
vendor_country = "DE"
category = "api"
risk = 1
risk_reasons = ["on premises"]
source = "https://example.com/"
api_hosts = ["10.1.2.3", "xn--bcher-kva.example"]
"#;

pub(super) fn fixture() -> Catalog {
    Catalog::from_sources(&[("fixture.toml", FIXTURE)]).unwrap()
}

fn hit(c: &Catalog, host: &str, path: &str) -> Option<(String, HostKind)> {
    c.match_url(host, path).map(|m| (m.app.id.clone(), m.kind))
}

#[test]
fn url_matching_table() {
    let c = fixture();
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, HostKind)>);
    let cases: &[Case<'_>] = &[
        ("chatgpt.com", "/", Some(("chatgpt", HostKind::Usage))),
        ("ab.chatgpt.com", "/", Some(("chatgpt", HostKind::Usage))),
        (
            "a.b.c.chatgpt.com",
            "/x",
            Some(("chatgpt", HostKind::Usage)),
        ),
        ("chat.openai.com", "/", Some(("chatgpt", HostKind::Usage))),
        (
            "api.openai.com",
            "/v1/chat/completions",
            Some(("chatgpt", HostKind::Api)),
        ),
        (
            "cdn.oaistatic.com",
            "/app.js",
            Some(("chatgpt", HostKind::Support)),
        ),
        (
            "files.oaiusercontent.com",
            "/f",
            Some(("chatgpt", HostKind::Upload)),
        ),
        ("openai.com", "/", None),
        ("notchatgpt.com", "/", None),
        ("chatgpt.com.evil.net", "/", None),
        (
            "www.bing.com",
            "/chat",
            Some(("bing-chat", HostKind::Usage)),
        ),
        (
            "www.bing.com",
            "/chat?q=hello",
            Some(("bing-chat", HostKind::Usage)),
        ),
        (
            "www.bing.com",
            "/search?q=chat",
            Some(("bing", HostKind::Usage)),
        ),
        ("www.bing.com", "", Some(("bing", HostKind::Usage))),
        // Longest prefix wins.
        (
            "www.bing.com",
            "/turing/conversation/create",
            Some(("bing-chat", HostKind::Usage)),
        ),
        (
            "www.bing.com",
            "/turing/captcha",
            Some(("bing-turing", HostKind::Usage)),
        ),
        ("10.1.2.3", "/", Some(("internal-llm", HostKind::Api))),
        ("bücher.example", "/", Some(("internal-llm", HostKind::Api))),
    ];
    for (host, path, want) in cases {
        let want = want.map(|(id, k)| (id.to_owned(), k));
        assert_eq!(hit(&c, host, path), want, "{host}{path}");
    }
}

#[test]
fn hostile_hosts_normalise_or_miss() {
    let c = fixture();
    let usage = Some(("chatgpt".to_owned(), HostKind::Usage));
    assert_eq!(hit(&c, "ChatGPT.COM", "/"), usage);
    assert_eq!(hit(&c, "chatgpt.com.", "/"), usage);
    assert_eq!(hit(&c, "WWW.ChatGPT.com.", "/"), usage);
    assert_eq!(hit(&c, "chatgpt.com..", "/"), None);
    assert_eq!(hit(&c, "", "/"), None);
    assert_eq!(hit(&c, ".", "/"), None);
    assert_eq!(
        hit(&c, "chatgpt.com:443", "/"),
        None,
        "ports are stripped by the caller"
    );
    assert_eq!(hit(&c, "evil.com\0chatgpt.com", "/"), None);
    assert_eq!(
        hit(&c, "ｃｈａｔｇｐｔ.com", "/"),
        usage,
        "full-width letters map under IDNA"
    );
    let long = format!("{}.chatgpt.com", vec!["a"; 200].join("."));
    assert_eq!(
        hit(&c, &long, "/"),
        None,
        "names over 253 characters match nothing"
    );
    let deep = format!("{}.chatgpt.com", vec!["a"; 100].join("."));
    assert_eq!(hit(&c, &deep, "/"), usage);
    assert_eq!(hit(&c, &"x".repeat(100_000), "/"), None);
}

#[test]
fn ip_literals_match_exact_entries_only() {
    let c = fixture();
    let api = Some(("internal-llm".to_owned(), HostKind::Api));
    assert_eq!(hit(&c, "10.1.2.3", "/"), api);
    assert_eq!(hit(&c, "10.1.2.3.", "/"), api);
    assert_eq!(hit(&c, "[::1]", "/"), None);
    assert_eq!(
        hit(&c, "167838211", "/"),
        None,
        "10.1.2.3 as one number is not listed"
    );
    let wild = FIXTURE.replace(r#"api_hosts = ["10.1.2.3","#, r#"api_hosts = ["*.1.2.3","#);
    let err = Catalog::from_sources(&[("f.toml", &wild)]).unwrap_err();
    assert!(err.to_string().contains("never an IP address"), "{err}");
}

#[test]
fn endpoints_table() {
    let c = fixture();
    let ep = |host: &str, method: &str, path: &str| {
        c.match_request(host, method, path)
            .and_then(|m| m.endpoint)
            .map(|e| match e {
                Endpoint::Prompt(p) => format!("prompt {}", p.fields[0]),
                Endpoint::Upload(u) => format!("upload {}", u.path),
            })
    };
    let prompt = Some("prompt messages.*.content.parts.*".to_owned());
    assert_eq!(
        ep("chatgpt.com", "POST", "/backend-api/conversation"),
        prompt
    );
    assert_eq!(
        ep("chatgpt.com", "post", "/backend-api/conversation?x=1"),
        prompt
    );
    assert_eq!(ep("chatgpt.com", "GET", "/backend-api/conversation"), None);
    assert_eq!(
        ep("chatgpt.com", "POST", "/backend-api/conversations"),
        None
    );
    assert_eq!(
        ep("cdn.oaistatic.com", "POST", "/backend-api/conversation"),
        None,
        "support host"
    );
    assert_eq!(
        ep("files.oaiusercontent.com", "POST", "/a/b"),
        Some("upload /**".to_owned())
    );
    assert_eq!(ep("files.oaiusercontent.com", "GET", "/a/b"), None);
    assert_eq!(
        ep("chatgpt.com", "PUT", "/backend-api/files/f1"),
        Some("upload /backend-api/files/*".to_owned())
    );
    assert_eq!(
        ep("chatgpt.com", "POST", "/somewhere"),
        None,
        "host-bound upload stays on its host"
    );
}

#[test]
fn apps_are_listed_and_found_by_id() {
    let c = fixture();
    assert_eq!(c.apps().len(), 5);
    assert_eq!(c.app("bing").map(|a| a.category), Some(Category::Search));
    assert!(c.app("nope").is_none());
    assert_eq!(c.host_count(), 12);
    let json = serde_json::to_value(c.app("chatgpt").unwrap()).unwrap();
    assert_eq!(json["hosts"][1], "*.chatgpt.com");
    assert_eq!(json["uploads"][0]["host"], "files.oaiusercontent.com");
    assert_eq!(
        json["prompts"][0]["fields"][0],
        "messages.*.content.parts.*"
    );
}

#[test]
fn overrides_replace_apps_by_id() {
    let over = r#"
[[app]]
id = "bing"
name = "Bing (ours)"
vendor = "Microsoft"
vendor_country = "US"
category = "search"
risk = 4
risk_reasons = ["override"]
source = "https://example.com/"
hosts = ["www.bing.com", "bing.com"]
"#;
    let c = Catalog::from_layers(&[("fixture.toml", FIXTURE)], &[("local.toml", over)]).unwrap();
    let bing = c.match_url("bing.com", "/").unwrap();
    assert_eq!((bing.app.name.as_str(), bing.app.risk), ("Bing (ours)", 4));
    assert_eq!(bing.app.file, "local.toml");
    assert_eq!(c.apps().len(), 5);
}

#[test]
fn the_most_specific_wildcard_wins() {
    let app = |id: &str, hosts: &str| {
        format!(
            "[[app]]\nid = \"{id}\"\nname = \"N\"\nvendor = \"V\"\nvendor_country = \"US\"\n\
             category = \"chat\"\nrisk = 1\nrisk_reasons = [\"r\"]\nsource = \"https://example.com/\"\nhosts = [{hosts}]\n"
        )
    };
    let text = [
        app("wide", r#""*.example.com""#),
        app("eu", r#""*.eu.example.com""#),
        app("deep", r#""*.a.b.c.example.net", "x.eu.example.com""#),
    ]
    .concat();
    let c = Catalog::from_sources(&[("w.toml", &text)]).unwrap();
    let id = |h: &str| c.match_url(h, "/").map(|m| m.app.id.clone());
    assert_eq!(
        id("x.eu.example.com").as_deref(),
        Some("deep"),
        "exact beats wildcard"
    );
    assert_eq!(id("y.eu.example.com").as_deref(), Some("eu"));
    assert_eq!(id("1.2.3.4.eu.example.com").as_deref(), Some("eu"));
    assert_eq!(id("eu.example.com").as_deref(), Some("wide"));
    assert_eq!(id("us.example.com").as_deref(), Some("wide"));
    assert_eq!(id("z.a.b.c.example.net").as_deref(), Some("deep"));
    assert_eq!(id("a.b.c.example.net").as_deref(), None);
    assert_eq!(id("example.com").as_deref(), None);
    assert_eq!(id("com").as_deref(), None);
}
