//! Cloud and database credentials found by their setting's name rather than a token prefix:
//! `azure_storage_key` (the 88-character key after `AccountKey=` in a connection string),
//! `azure_sas_token` (the `sig=` of a shared access signature whose `sv=` version date
//! anchors it), `gcp_service_account` (a service-account key file: `"type":
//! "service_account"` with its `private_key_id` and `private_key`) and `database_url`
//! (`postgres://user:password@host`, and the same for MySQL, MongoDB, Redis, AMQP, SQL
//! Server, ClickHouse). Each looks only in a bounded window after its anchor.

use crate::detector::Detector::{AzureSasToken, AzureStorageKey, DatabaseUrl, GcpServiceAccount};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::is_b64;

/// `AccountKey=` at `at` (`end`: past the `=`).
pub(crate) fn azure_key(cx: &mut Cx<'_>, end: usize) {
    let text = cx.text;
    let Some(e) = shape::azure_key(text, end, 88) else {
        return;
    };
    if text.get(e).is_some_and(|b| is_b64(*b) || *b == b'=')
        || cx.ph.is_placeholder(&text[end..e - 2])
    {
        return;
    }
    cx.found(AzureStorageKey, end, e, Confidence::High);
}

/// Most bytes of a SAS query read after its `sv=`.
const SAS_WINDOW: usize = 1024;

/// `sv=YYYY-` at `at`: the signature of the shared access signature it starts.
pub(crate) fn azure_sas(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let hi = at.saturating_add(SAS_WINDOW).min(text.len());
    // The query runs on while its bytes are URL-safe.
    let mut e = at;
    while e < hi && is_query(text[e]) {
        e += 1;
    }
    let query = &text[at..e];
    let Some(k) = memchr::memmem::find(query, b"sig=") else {
        return;
    };
    if k > 0 && !matches!(query[k - 1], b'&' | b'?' | b';') {
        return;
    }
    let s = at + k + 4;
    let Some(end) = shape::azure_sig(text, s, e - s) else {
        return;
    };
    if cx.ph.is_placeholder(&text[s..end]) {
        return;
    }
    cx.found(AzureSasToken, s, end, Confidence::High);
}

fn is_query(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'&' | b'=' | b'%' | b'-' | b'_' | b'.' | b':' | b'+' | b'/' | b';'
        )
}

/// How far around `"service_account"` the key file's other fields are looked for.
const SA_BEFORE: usize = 512;
const SA_AFTER: usize = 4096;

/// `service_account` at `at`: a key file when it is the value of `"type"`.
pub(crate) fn gcp(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if text.get(at + 15) != Some(&b'"') || !type_key_before(text, at) {
        return;
    }
    let lo = at.saturating_sub(SA_BEFORE);
    let hi = at.saturating_add(SA_AFTER).min(text.len());
    let window = &text[lo..hi];
    let Some(k) = memchr::memmem::find(window, b"\"private_key_id\"") else {
        return;
    };
    let mut s = lo + k + 16;
    while s < hi && matches!(text[s], b' ' | b':' | b'"') {
        s += 1;
    }
    let Some(id_end) = shape::gcp_key_id(text, s, 40) else {
        return;
    };
    if text.get(id_end) != Some(&b'"') {
        return;
    }
    // The finding reaches over the private key when it follows: the key file is one secret.
    let mut end = id_end;
    if let Some(p) = memchr::memmem::find(&text[id_end..hi], b"\"private_key\"") {
        let v = id_end + p + 13;
        if let Some(q) = memchr::memmem::find(&text[v..hi], b"-----END") {
            let close = v + q;
            end = memchr::memchr(b'"', &text[close..hi]).map_or(close, |c| close + c);
        }
    }
    cx.found(GcpServiceAccount, s, end, Confidence::High);
}

/// Whether `"type": "` (any spacing) ends right before `at`.
fn type_key_before(text: &[u8], at: usize) -> bool {
    let mut i = at;
    let step = |i: &mut usize, want: u8| {
        while *i > 0 && matches!(text[*i - 1], b' ' | b'\t') {
            *i -= 1;
        }
        if *i > 0 && text[*i - 1] == want {
            *i -= 1;
            true
        } else {
            false
        }
    };
    step(&mut i, b'"')
        && step(&mut i, b':')
        && step(&mut i, b'"')
        && i >= 4
        && &text[i - 4..i] == b"type"
}

/// URL schemes of databases and message brokers.
const SCHEMES: &[&[u8]] = &[
    b"postgres",
    b"postgresql",
    b"mysql",
    b"mariadb",
    b"mongodb",
    b"mongodb+srv",
    b"redis",
    b"rediss",
    b"amqp",
    b"amqps",
    b"mssql",
    b"sqlserver",
    b"clickhouse",
    b"cockroachdb",
];

/// Passwords of tutorials and default setups.
const STAND_INS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pass",
    b"pwd",
    b"secret",
    b"postgres",
    b"mysql",
    b"root",
    b"admin",
    b"changeme",
    b"example",
    b"guest",
    b"test",
    b"user",
    b"redis",
    b"mongo",
    b"xxx",
    b"xxxx",
    b"xxxxxx",
    b"****",
    b"******",
    b"********",
    b"...",
];

/// `://` at `at`: a database URL with a password when the scheme before it is one.
pub(crate) fn database_url(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let mut s = at;
    while s > 0 && at - s < 12 && (text[s - 1].is_ascii_alphanumeric() || text[s - 1] == b'+') {
        s -= 1;
    }
    let scheme = &text[s..at];
    if !SCHEMES.iter().any(|k| scheme.eq_ignore_ascii_case(k)) {
        return;
    }
    let Some((colon, atsign, end)) = shape::userinfo(text, at + 3, 512) else {
        return;
    };
    let password = &text[colon + 1..atsign];
    let user = &text[at + 3..colon];
    let stand_in = password.first() == Some(&b'$')
        || password.first() == Some(&b'<')
        || password.first() == Some(&b'{')
        || password.first() == Some(&b'%')
        || password == user
        || STAND_INS.iter().any(|w| password.eq_ignore_ascii_case(w))
        || cx.ph.is_placeholder(password);
    if stand_in {
        return;
    }
    let host = &text[atsign + 1..end];
    let local = host.starts_with(b"localhost")
        || host.starts_with(b"127.0.0.1")
        || host.ends_with(b"example.com");
    let base = if local {
        Confidence::Low
    } else {
        Confidence::High
    };
    cx.found(DatabaseUrl, s, end, base);
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn generated_credentials_are_found() {
        let mut rng = SampleRng::new(31);
        for s in [
            Sample::AzureStorageKey,
            Sample::AzureSasToken,
            Sample::GcpServiceAccount,
            Sample::DatabaseUrl,
        ] {
            for _ in 0..50 {
                let v = s.generate(&mut rng);
                let hits = found(&format!("see {v}\n"), s.detector());
                assert_eq!(hits.len(), 1, "{s:?} {v}");
                assert_eq!(hits[0].2, "high", "{v}");
            }
        }
    }

    #[test]
    fn the_finding_covers_the_secret_not_the_setting() {
        let key = "GTd7FguoV8FWnFbB0JxXujr4qqaaABvvLOzAxzXMcU1vsHiQMaRiNTN9Ox98whGcTZc1UWb5fxzpF7STG7nVLe==";
        let text = format!("AccountName=acme;AccountKey={key};EndpointSuffix=core.windows.net");
        let at = text.find(key).unwrap();
        assert_eq!(
            found(&text, Detector::AzureStorageKey),
            [(at, at + 88, "high")]
        );
        let url = "postgres://app:S3cr3t-Pa55@db.prod.internal:5432/orders";
        let end = url.find("/orders").unwrap();
        assert_eq!(found(url, Detector::DatabaseUrl), [(0, end, "high")]);
    }

    #[test]
    fn stand_ins_and_other_urls_are_not_credentials() {
        for (text, d) in [
            ("AccountKey=your_storage_account_key_here", Detector::AzureStorageKey),
            ("sv=2022-11-02&sig=short", Detector::AzureSasToken),
            ("?sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Detector::AzureSasToken),
            ("\"type\": \"authorized_user\", \"private_key_id\": \"0123456789abcdef0123456789abcdef01234567\"", Detector::GcpServiceAccount),
            ("postgres://postgres:postgres@db:5432/app", Detector::DatabaseUrl),
            ("postgres://user:password@db.example.com/app", Detector::DatabaseUrl),
            ("mysql://root:${MYSQL_ROOT_PASSWORD}@db/app", Detector::DatabaseUrl),
            ("redis://:<password>@cache:6379", Detector::DatabaseUrl),
            ("postgres://app@db.prod.internal:5432/orders", Detector::DatabaseUrl),
            ("https://user:S3cr3t-Pa55@example.org/", Detector::DatabaseUrl),
            ("ftp://anon:S3cr3t-Pa55@files.example.org/", Detector::DatabaseUrl),
        ] {
            assert!(found(text, d).is_empty(), "{text}: {:?}", found(text, d));
        }
        // On localhost a password is usually a developer's default: reported low.
        assert_eq!(
            found(
                "postgres://app:Xq83kd0Lm@localhost:5432/app",
                Detector::DatabaseUrl
            )[0]
            .2,
            "low"
        );
    }
}
