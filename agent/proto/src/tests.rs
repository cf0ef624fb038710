//! The contract's bodies as JSON, field for field, and the posture limits at their edges.

use super::posture::{field_ok, MAX_KEY_LEN, MAX_VALUE_LEN, RESERVED_FIELD};
use super::*;

#[test]
fn enroll_bodies_keep_their_field_names() {
    let request = EnrollRequest {
        token: "t".into(),
        csr: "c".into(),
        hostname: "h".into(),
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        serde_json::json!({"token": "t", "csr": "c", "hostname": "h"})
    );
    // An agent that sends no hostname still enrolls.
    let bare: EnrollRequest = serde_json::from_str(r#"{"token":"t","csr":"c"}"#).unwrap();
    assert_eq!(bare.hostname, "");
    let answer: Enrolled = serde_json::from_value(serde_json::json!({
        "device_id": "d", "user": "u", "groups": ["g"], "certificate": "pem"
    }))
    .unwrap();
    assert_eq!(answer.groups, ["g"]);
    let error: ErrorBody = serde_json::from_str(r#"{"error":"no"}"#).unwrap();
    assert_eq!(error.error, "no");
}

#[test]
fn posture_fields_at_their_limits() {
    let long = |n| "a".repeat(n);
    assert!(field_ok("os", "linux"));
    assert!(field_ok(&long(MAX_KEY_LEN), &long(MAX_VALUE_LEN)));
    assert!(field_ok("empty_value", ""));
    for (key, value) in [
        ("", "x"),
        (&*long(MAX_KEY_LEN + 1), "x"),
        ("k", &*long(MAX_VALUE_LEN + 1)),
        ("a;b", "x"),
        ("k", "x\ny"),
        ("k", "x\r"),
        (RESERVED_FIELD, "true"),
    ] {
        assert!(!field_ok(key, value), "{key:?}={value:?}");
    }
}
