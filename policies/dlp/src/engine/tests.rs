//! Tests of the engine: shipped profiles, thresholds, custom detectors, EDM, and that no
//! rendering of a finding ever carries the secret.

use super::*;
use crate::samples::{Sample, SampleRng};
use crate::{redact, CustomRegex, EdmOptions, EdmSet, KeywordList};

fn engine() -> DlpEngine {
    DlpEngine::shipped().unwrap()
}

#[test]
fn shipped_profiles_are_there() {
    let e = engine();
    let names: Vec<&str> = e.profile_names().collect();
    for want in [
        "default",
        "financial",
        "national_ids",
        "credentials",
        "source_code",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(matches!(
        e.scan_profile("nope", "x"),
        Err(DlpError::UnknownProfile(_))
    ));
    assert!(DlpScanner::scan(&e, "nope", "4556 7375 8689 9855").is_empty());
}

#[test]
fn profiles_see_only_their_detectors() {
    let e = engine();
    let mut rng = SampleRng::new(5);
    let key = Sample::AwsAccessKeyId.generate(&mut rng);
    let text = format!("card 4556 7375 8689 9855, key {key}");
    let fin = e.scan_profile("financial", &text).unwrap();
    assert!(fin.matched);
    assert_eq!(fin.findings.len(), 1);
    assert_eq!(fin.findings[0].detector, "credit_card");
    let cred = e.scan_profile("credentials", &text).unwrap();
    assert_eq!(cred.counts[0].detector, "aws_access_key_id");
    let both = e
        .scan_profiles(&["financial", "credentials", "default"], &text)
        .unwrap();
    assert_eq!(
        both.iter().map(|r| r.findings.len()).collect::<Vec<_>>(),
        [1, 1, 2]
    );
}

#[test]
fn thresholds_decide_matched() {
    let e = engine();
    let one = "write to maria.gonzalez@northwind-traders.com";
    let r = e.scan_profile("default", one).unwrap();
    assert_eq!(r.findings.len(), 1, "reported");
    assert!(!r.matched, "one address does not match default");
    assert!(e.scan_profile("pii", one).unwrap().matched);
    assert!(DlpScanner::scan(&e, "default", one).is_empty());
    let three = "a.b@fabrikam.io, c.d@fabrikam.io, e.f@fabrikam.io";
    let r = e.scan_profile("default", three).unwrap();
    assert!(r.matched);
    assert_eq!(r.counts[0].count, 3);
    // Test cards are low: reported by nobody shipped.
    assert!(
        !e.scan_profile("financial", "card 4111 1111 1111 1111")
            .unwrap()
            .matched
    );
}

#[test]
fn findings_never_carry_a_secret() {
    let e = engine();
    let mut rng = SampleRng::new(99);
    for s in Sample::ALL {
        let secret = s.generate(&mut rng);
        // National ids written bare are low until a word names them.
        let lead = match s {
            Sample::AwsSecretAccessKey => "aws_secret_access_key",
            Sample::UkNino => "NINO",
            Sample::CaSin => "SIN",
            Sample::DeTaxId => "Steuer-ID",
            Sample::FrNir => "NIR",
            Sample::InAadhaar => "Aadhaar",
            Sample::InPan => "PAN",
            Sample::BrCpf => "CPF",
            _ => "here it is",
        };
        let text = format!("{lead}: {secret}\n");
        let r = e.scan_profile("default", &text).unwrap();
        let f = r.findings.iter().find(|f| f.detector == s.detector().id());
        let f = f.unwrap_or_else(|| panic!("{s:?} not found in {r:?}"));
        for shown in [
            format!("{f:?}"),
            format!("{f}"),
            serde_json::to_string(f).unwrap(),
            format!("{r:?}"),
        ] {
            assert!(!shown.contains(&secret), "{s:?} leaked: {shown}");
            let m = secret.len() / 3;
            let middle = &secret[m..(m + 8).min(secret.len())];
            assert!(!shown.contains(middle), "{s:?} leaked its middle: {shown}");
        }
        let red = redact(&text, &r.findings);
        assert!(!red.contains(&secret), "{red}");
        assert!(
            red.contains(&format!("[REDACTED:{}]", s.detector().id())),
            "{red}"
        );
    }
}

#[test]
fn custom_keywords_are_whole_words_any_case() {
    let e = DlpEngine::builder()
        .keyword_list(KeywordList {
            id: "projects".into(),
            words: vec!["Nightingale".into(), "Blue Heron".into()],
            confidence: Confidence::High,
        })
        .profiles("site.toml", "[internal]\ndetectors = [\"projects\"]\n")
        .build()
        .unwrap();
    let r = e
        .scan_profile(
            "internal",
            "status of NIGHTINGALE and blue heron; nightingales sing",
        )
        .unwrap();
    let spans: Vec<_> = r.findings.iter().map(|f| (f.start, f.end)).collect();
    assert_eq!(spans, [(10, 21), (26, 36)]);
    assert!(r.matched);
}

#[test]
fn custom_regexes_run_with_and_without_keywords() {
    let e = DlpEngine::builder()
        .custom_regex(CustomRegex {
            id: "employee_id".into(),
            pattern: r"\bEMP-\d{6}\b".into(),
            confidence: Confidence::Medium,
            keywords: vec![],
            window: 256,
        })
        .custom_regex(CustomRegex {
            id: "ticket_secret".into(),
            pattern: r"tks_[a-z0-9]{12}".into(),
            confidence: Confidence::High,
            keywords: vec!["tks_".into()],
            window: 64,
        })
        .profiles(
            "site.toml",
            "[hr]\ndetectors = [\"employee_id\", \"ticket_secret\"]\n",
        )
        .build()
        .unwrap();
    let r = e
        .scan_profile("hr", "EMP-123456 filed tks_abc123def456 and EMP-1234567")
        .unwrap();
    let ids: Vec<_> = r.findings.iter().map(|f| &*f.detector).collect();
    assert_eq!(ids, ["employee_id", "ticket_secret"]);
}

#[test]
fn oversized_custom_regexes_are_refused() {
    let huge = CustomRegex {
        id: "huge".into(),
        pattern: r"(\w{50}){50}[a-z]{1000}".into(),
        confidence: Confidence::Low,
        keywords: vec![],
        window: 256,
    };
    let err = DlpEngine::builder().custom_regex(huge).build().unwrap_err();
    assert!(matches!(err, DlpError::RegexTooBig { .. }), "{err:?}");
    assert!(
        err.to_string().contains("custom regex `huge` is too big"),
        "{err}"
    );
    let long = CustomRegex {
        id: "long".into(),
        pattern: "a".repeat(5000),
        confidence: Confidence::Low,
        keywords: vec![],
        window: 256,
    };
    assert!(matches!(
        DlpEngine::builder().custom_regex(long).build(),
        Err(DlpError::RegexTooLong { .. })
    ));
    let bad = CustomRegex {
        id: "bad".into(),
        pattern: "(".into(),
        confidence: Confidence::Low,
        keywords: vec![],
        window: 256,
    };
    assert!(matches!(
        DlpEngine::builder().custom_regex(bad).build(),
        Err(DlpError::RegexInvalid { .. })
    ));
}

#[test]
fn custom_ids_are_checked() {
    let kw = |id: &str| KeywordList {
        id: id.into(),
        words: vec!["x1".into()],
        confidence: Confidence::Low,
    };
    assert!(matches!(
        DlpEngine::builder().keyword_list(kw("credit_card")).build(),
        Err(DlpError::InvalidId { .. })
    ));
    let dup = DlpEngine::builder()
        .keyword_list(kw("a"))
        .keyword_list(kw("a"))
        .build();
    assert!(matches!(dup, Err(DlpError::DuplicateId(_))));
    let empty = KeywordList {
        id: "e".into(),
        words: vec![" ".into()],
        confidence: Confidence::Low,
    };
    assert!(matches!(
        DlpEngine::builder().keyword_list(empty).build(),
        Err(DlpError::EmptyKeywordList(_))
    ));
    let err = DlpEngine::builder()
        .profiles("p.toml", "[x]\ndetectors = [\"projects\"]\n")
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "p.toml:2:14: unknown detector `projects`");
}

#[test]
fn edm_sets_match_through_the_engine() {
    let csv = "name,ssn\nJane Doe,536-22-8877\n";
    let set = EdmSet::from_csv(
        "customers",
        csv,
        b"0123456789abcdef-salt",
        &EdmOptions::default(),
    )
    .unwrap();
    let e = DlpEngine::builder()
        .edm_set(set)
        .profiles("s.toml", "[edm]\ndetectors = [\"customers\"]\n")
        .build()
        .unwrap();
    let r = e
        .scan_profile("edm", "Customer JANE DOE, ssn 536 22 8877.")
        .unwrap();
    let got: Vec<_> = r
        .findings
        .iter()
        .map(|f| (&*f.detector, f.start, f.end, f.confidence))
        .collect();
    assert_eq!(
        got,
        [
            ("customers", 9, 17, Confidence::High),
            ("customers", 23, 34, Confidence::High)
        ]
    );
}

/// Bytes the fast paths key on (triggers, digits, separators, line ends, base64, multi-byte
/// characters) thrown together at random, cut at every length: a scan returns findings inside
/// the text and never panics, whatever window edge or chunk boundary it meets.
#[test]
fn random_texts_near_every_fast_path_never_upset_a_scan() {
    let e = engine();
    let pieces = [
        "_",
        "-",
        "J",
        "A",
        "/",
        "@",
        "\n",
        "\r\n",
        " ",
        "=",
        "(",
        ";",
        "#",
        "\\n",
        ".",
        "...",
        "…",
        "é",
        "0",
        "4111",
        "78-05-1120",
        "GB82",
        "AKIA",
        "ghp_",
        "sk-",
        "eyJ",
        "xoxb-",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END ",
        "hooks.slack.com/",
        "secret",
        "key",
        "for ",
        "fi",
        "else",
        "card",
        "american",
        "ss#",
        "aws_secret",
        "Q7mZ2kLp9XvR4tBw",
        "wK8s/Pq2+Lm4Zr7Tn1",
        "Proc-Type:",
        "ACCESS_KEY",
        "tAccessKey",
        "AIza",
    ];
    let mut rng = SampleRng::new(77);
    for round in 0..3000 {
        let mut text = String::new();
        while text.len() < round % 400 {
            text.push_str(pieces[rng.below(pieces.len())]);
        }
        let r = e.scan_profile("default", &text).unwrap();
        for f in &r.findings {
            assert!(f.start < f.end && f.end <= text.len(), "{f:?} in {text:?}");
        }
    }
}
