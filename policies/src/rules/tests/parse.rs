//! Policy file errors carry the right `file:line:col`; catalog references are warnings.

use crate::rules::*;

fn errors(text: &str) -> Vec<String> {
    let err = Policy::parse("p.toml", text).unwrap_err();
    err.errors().iter().map(ToString::to_string).collect()
}

fn rule(body: &str) -> String {
    format!("version = \"v\"\n\n[[rule]]\nid = \"r\"\n{body}\n")
}

#[test]
fn each_error_is_positioned() {
    // Rule bodies start on line 5.
    let cases: &[(&str, &str, &str)] = &[
        ("action = \"deny\"", "5:10", "unknown variant `deny`"),
        ("action = \"block\"\nfoo = 1", "6:1", "unknown field `foo`"),
        (
            "when = { colour = \"red\" }\naction = \"block\"",
            "5:10",
            "unknown field `colour`",
        ),
        (
            "when = { status = \"maybe\" }\naction = \"block\"",
            "5:19",
            "valid statuses are: approved",
        ),
        (
            "when = { category = [\"chat\", \"llm\"] }\naction = \"block\"",
            "5:21",
            "unknown category \"llm\"",
        ),
        (
            "when = { host = \"https://x.com\" }\naction = \"block\"",
            "5:17",
            "without a scheme",
        ),
        (
            "when = { app = [] }\naction = \"block\"",
            "5:16",
            "empty list",
        ),
        (
            "when = { country = \"GER\" }\naction = \"block\"",
            "5:20",
            "alpha-2",
        ),
        (
            "when = { method = \"GET /\" }\naction = \"block\"",
            "5:19",
            "HTTP method",
        ),
        (
            "when = { upload = \"yes\" }\naction = \"block\"",
            "5:19",
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "when = { posture = { disk = 1 } }\naction = \"block\"",
            "5:29",
            "expected a boolean or a string",
        ),
        (
            "when = { user = 7 }\naction = \"block\"",
            "5:17",
            "expected a string or a list of strings",
        ),
        ("action = \"dlp\"", "5:10", "needs `profile`"),
        (
            "action = \"dlp\"\nprofile = \"x\"\non_match = \"quarantine\"",
            "7:12",
            "unknown variant `quarantine`",
        ),
        (
            "action = \"block\"\nprofile = \"x\"",
            "6:11",
            "`profile` does not apply to action `block`",
        ),
        (
            "action = \"allow\"\nmessage = \"hi\"",
            "6:11",
            "`message` does not apply to action `allow`",
        ),
        (
            "action = \"audit\"\nmax_prompt_bytes = 0",
            "6:20",
            "max_prompt_bytes must be 1..=1048576",
        ),
        (
            "action = \"audit\"\nmax_prompt_bytes = 99999999999",
            "6:20",
            "max_prompt_bytes must be",
        ),
        (
            "when = { method = \"GET\" }\naction = \"do_not_inspect\"",
            "5:8",
            "cannot use method",
        ),
        (
            "when = { host = \"a.com/x\" }\naction = \"do_not_inspect\"",
            "5:8",
            "path prefix",
        ),
        (
            "when = { app = \"x\" }\nunless = { dlp_profile = \"p\" }\naction = \"do_not_inspect\"",
            "5:8",
            "cannot use dlp_profile",
        ),
        (
            "when = { upload = false }\naction = \"block_uploads\"",
            "5:19",
            "contradicts",
        ),
        (
            "unless = {}\naction = \"block\"",
            "5:10",
            "could never match",
        ),
    ];
    for (body, at, message) in cases {
        let got = errors(&rule(body));
        let want = format!("p.toml:{at}: ");
        assert!(
            got.iter()
                .any(|e| e.starts_with(&want) && e.contains(message)),
            "{body:?}: want {want}…{message}, got {got:?}"
        );
    }
}

#[test]
fn rule_ids_are_checked() {
    let got = errors("[[rule]]\nid = \"default\"\naction = \"allow\"\n");
    assert_eq!(
        got,
        ["p.toml:2:6: rule id \"default\" is reserved for the verdict when no rule matches"]
    );
    let got = errors("[[rule]]\nid = \"a b\"\naction = \"allow\"\n");
    assert!(
        got[0].starts_with("p.toml:2:6: rule id \"a b\" must be"),
        "{got:?}"
    );
    let two =
        "[[rule]]\nid = \"x\"\naction = \"allow\"\n\n[[rule]]\nid = \"x\"\naction = \"block\"\n";
    assert_eq!(
        errors(two),
        ["p.toml:6:6: rule id \"x\" is already used at p.toml:2:6"]
    );
    let a = "[[rule]]\nid = \"x\"\naction = \"allow\"\n";
    let err = Policy::from_sources(&[("a.toml", a), ("b.toml", a)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "b.toml:2:6: rule id \"x\" is already used at a.toml:2:6"
    );
}

#[test]
fn syntax_errors_and_missing_keys_are_positioned() {
    let got = errors("[[rule]]\nid = \"x\"\naction = \n");
    assert!(got[0].starts_with("p.toml:3:10: "), "{got:?}");
    let got = errors("[[rule]]\nid = \"x\"\n");
    assert!(
        got[0].starts_with("p.toml:1:1: missing field `action`"),
        "{got:?}"
    );
    let got = errors("verison = \"1\"\n");
    assert!(
        got[0].starts_with("p.toml:1:1: unknown field `verison`"),
        "{got:?}"
    );
}

#[test]
fn all_errors_are_collected() {
    let text = "[[rule]]\nid = \"a\"\naction = \"allow\"\nmessage = \"m\"\n\n[[rule]]\nid = \"b\"\nwhen = { status = \"x\", country = \"y\" }\naction = \"block\"\n";
    assert_eq!(errors(text).len(), 3, "{:?}", errors(text));
}

#[test]
fn versions_are_labels_or_content_hashes() {
    let labelled = Policy::parse("p.toml", "version = \"2024-06-01\"\n").unwrap();
    assert_eq!(labelled.version(), "2024-06-01");
    let a = Policy::parse("p.toml", "# a\n").unwrap();
    let b = Policy::parse("p.toml", "# b\n").unwrap();
    assert!(a.version().starts_with("sha256:") && a.version().len() == 7 + 16);
    assert_ne!(a.version(), b.version(), "the hash follows the text");
    assert_eq!(
        a.version(),
        Policy::parse("p.toml", "# a\n").unwrap().version()
    );
    let both = Policy::from_sources(&[
        ("a.toml", "version = \"a1\""),
        ("b.toml", "version = \"b2\""),
    ])
    .unwrap();
    assert_eq!(both.version(), "a1+b2");
    let mixed = Policy::from_sources(&[("a.toml", "version = \"a1\""), ("b.toml", "")]).unwrap();
    assert!(mixed.version().starts_with("sha256:"));
    assert!(Policy::parse("p.toml", "version = \"\"").is_err());
}

#[test]
fn unknown_app_ids_are_warnings_not_errors() {
    let catalog = crate::catalog::Catalog::from_sources(&[(
        "c.toml",
        "[[app]]\nid = \"chatgpt\"\nname = \"C\"\nvendor = \"O\"\nvendor_country = \"US\"\ncategory = \"chat\"\nrisk = 3\nrisk_reasons = [\"r\"]\nsource = \"https://example.com/\"\nhosts = [\"chatgpt.com\"]\n",
    )])
    .unwrap();
    let text = "[[rule]]\nid = \"r\"\nwhen = { app = [\"chatgpt\", \"nope\"] }\naction = \"block\"\nalternative = \"ghost\"\n";
    let p = Policy::parse("p.toml", text).unwrap();
    let warnings: Vec<String> = p
        .check_against(&catalog)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "p.toml:3:16: rule refers to app \"nope\", which is not in the catalog",
            "p.toml:5:15: alternative names unknown app \"ghost\"",
        ]
    );
}
