//! `email_address`: found from each `@`: the local part is read backwards (at most 64 bytes),
//! the domain by an anchored regex that ends in an alphabetic TLD. Not reported: documentation
//! domains (RFC 2606 `example.*`, `.test`, `.invalid`, `.localhost`) and stand-in names
//! (`you@`, `user@`, `john.doe@`), URL credentials (`https://user:pw@host`), package and image
//! names (`pkg@1.2.3`, `icon@2x.png`) and `git@` remotes. Automated senders (`noreply@`) are
//! low; anything else medium, high next to "email" or "contact".

use super::super::detector::Detector::EmailAddress;
use super::super::finding::Confidence;
use super::super::scan::Cx;
use super::super::text::{anchored, is_alnum};

const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;

const PLACEHOLDER_LOCALS: &[&[u8]] = &[
    b"you",
    b"your",
    b"yourname",
    b"your.name",
    b"youremail",
    b"your.email",
    b"user",
    b"username",
    b"name",
    b"someone",
    b"somebody",
    b"email",
    b"foo",
    b"bar",
    b"test",
    b"john.doe",
    b"jane.doe",
    b"johndoe",
    b"janedoe",
    b"firstname.lastname",
    b"first.last",
    b"me",
    b"git",
];
const PLACEHOLDER_DOMAINS: &[&[u8]] = &[
    b"domain.com",
    b"yourdomain.com",
    b"yourcompany.com",
    b"mydomain.com",
    b"company.com",
    b"email.com",
];
const DOC_SUFFIXES: &[&[u8]] = &[b".test", b".invalid", b".localhost", b".example", b".local"];
const FILE_TLDS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"ico", b"bmp", b"js", b"mjs", b"css",
    b"json", b"yaml", b"yml", b"toml", b"txt", b"lock", b"html", b"htm", b"xml", b"mp3", b"mp4",
];
const AUTOMATED: &[&[u8]] = &[
    b"noreply",
    b"no-reply",
    b"donotreply",
    b"do-not-reply",
    b"mailer-daemon",
];

fn is_local(b: u8) -> bool {
    is_alnum(b) || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// An address around the `@` at `at`.
pub(crate) fn detect(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let floor = at.saturating_sub(MAX_LOCAL + 1);
    let mut start = at;
    while start > floor && is_local(text[start - 1]) {
        start -= 1;
    }
    while start < at && !is_alnum(text[start]) {
        start += 1; // local parts start with a letter or digit
    }
    if start == at || (start > 0 && is_local(text[start - 1])) {
        return;
    }
    // `scheme://user:password@host` is a URL credential, not an address.
    if start > 0 && text[start - 1] == b':' {
        return;
    }
    let Some(end) = anchored(&cx.pats.email_domain, text, at + 1, MAX_DOMAIN) else {
        return;
    };
    if text
        .get(end)
        .is_some_and(|b| is_alnum(*b) || *b == b'-' || *b == b'@')
    {
        return;
    }
    let local = &text[start..at];
    let domain = &text[at + 1..end];
    if local.ends_with(b".") || local.windows(2).any(|w| w == b"..") {
        return;
    }
    let lower = |s: &[u8], list: &[&[u8]]| list.iter().any(|x| s.eq_ignore_ascii_case(x));
    let tld = domain.rsplit(|b| *b == b'.').next().unwrap_or_default();
    let doc_domain = domain.eq_ignore_ascii_case(b"example.com")
        || domain.eq_ignore_ascii_case(b"example.org")
        || domain.eq_ignore_ascii_case(b"example.net")
        || domain.len() > 8 && domain[..8].eq_ignore_ascii_case(b"example.")
        || DOC_SUFFIXES
            .iter()
            .any(|s| ends_with_ignore_case(domain, s))
        || lower(domain, PLACEHOLDER_DOMAINS);
    if doc_domain || lower(local, PLACEHOLDER_LOCALS) || lower(tld, FILE_TLDS) {
        return;
    }
    if lower(local, AUTOMATED) || ends_with_ignore_case(domain, b".noreply.github.com") {
        cx.found_fixed(EmailAddress, start, end, Confidence::Low);
    } else {
        cx.found(EmailAddress, start, end, Confidence::Medium);
    }
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::super::super::detector::Detector;
    use super::super::tests_support::found;

    #[test]
    fn addresses_are_found() {
        let t = "Ping maria.gonzalez@northwind-traders.co.uk today.";
        assert_eq!(found(t, Detector::EmailAddress), [(5, 43, "medium")]);
        assert_eq!(
            found("email: a.b+tag@corp.io", Detector::EmailAddress),
            [(7, 22, "high")]
        );
        assert_eq!(
            found("<li.wei@acme-labs.com>", Detector::EmailAddress),
            [(1, 21, "medium")]
        );
        assert_eq!(
            found("noreply@acme-labs.com", Detector::EmailAddress)[0].2,
            "low"
        );
    }

    #[test]
    fn look_alikes_are_not() {
        for neg in [
            "someone@example.com",
            "alice@example.org",
            "bob@mail.example",
            "ops@build.test",
            "you@yourcompany.com",
            "john.doe@acme-labs.com",
            "lodash@4.17.21",
            "@angular/core@17.0.1",
            "icon@2x.png",
            "git@github.com:org/repo.git",
            "https://admin:hunter2@db.internal.net/",
            "ssh root@10.0.0.1",
            "@decorator",
            "a@b",
            "x.@corp.io",
            "price is 5 @ store.com",
        ] {
            assert!(found(neg, Detector::EmailAddress).is_empty(), "{neg}");
        }
    }
}
