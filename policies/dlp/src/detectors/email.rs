//! `email_address`: found from each `@`: the local part is read backwards (at most 64 bytes),
//! the domain forwards as dot-ended labels and an alphabetic TLD (what `EMAIL_DOMAIN` matches). Not reported: documentation
//! domains (RFC 2606 `example.*`, `.test`, `.invalid`, `.localhost`) and stand-in names
//! (`you@`, `user@`, `john.doe@`), URL credentials (`https://user:pw@host`), package and image
//! names (`pkg@1.2.3`, `icon@2x.png`) and `git@` remotes. Automated senders (`noreply@`) are
//! low; anything else medium, high next to "email" or "contact".

use crate::detector::Detector::EmailAddress;
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::text::is_alnum;

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
    let Some(end) = domain_end(text, at + 1) else {
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

/// Where the domain from `from` ends, as the anchored `EMAIL_DOMAIN` pattern would match it
/// within [`MAX_DOMAIN`] bytes: labels of 1 to 63 `[A-Za-z0-9-]` bytes (no hyphen first or
/// last), each ended by a dot, then an alphabetic TLD of 2 to 24 letters. As many labels as
/// leave a TLD after them count, as the pattern's greedy repetition takes them; the TLD takes
/// all the letters it can. One pass over the bytes, where the regex costs a search per `@`.
fn domain_end(text: &[u8], from: usize) -> Option<usize> {
    let hi = from.saturating_add(MAX_DOMAIN).min(text.len());
    let label_byte = |b: u8| is_alnum(b) || b == b'-';
    let mut end = None;
    let mut label = from;
    loop {
        let dot = label
            + text[label..hi]
                .iter()
                .take_while(|b| label_byte(**b))
                .count();
        let len = dot - label;
        if dot >= hi
            || text[dot] != b'.'
            || !(1..=63).contains(&len)
            || !is_alnum(text[label])
            || !is_alnum(text[dot - 1])
        {
            return end;
        }
        label = dot + 1;
        let tld = text[label..hi.min(label + 24)]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if tld >= 2 {
            end = Some(label + tld);
        }
    }
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::patterns::{anchored, EMAIL_DOMAIN};
    use crate::text;

    /// The domain reader ends where the anchored pattern does, on generated domains with
    /// labels of every length about the limits, hyphens, digits, cut TLDs and the window's end.
    #[test]
    fn domains_end_where_the_pattern_does() {
        let re = anchored(EMAIL_DOMAIN).unwrap();
        let alphabet = b"ab.Z9-_.x@. q";
        let mut seed = 5u32;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as usize % n
        };
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for _ in 0..4000 {
            let len = next(40);
            texts.push((0..len).map(|_| alphabet[next(alphabet.len())]).collect());
        }
        for n in [1, 62, 63, 64, 250, 251, 252, 253, 254] {
            let label = vec![b'a'; n];
            texts.push([&label[..], b".com"].concat());
            texts.push([b"mail.", &label[..]].concat());
            texts.push([&b"a.".repeat(n / 2)[..], b"io"].concat());
        }
        texts.push(b"a.bcdefghijklmnopqrstuvwxyzab".to_vec());
        for t in &texts {
            assert_eq!(
                domain_end(t, 0),
                text::anchored(&re, t, 0, MAX_DOMAIN),
                "{}",
                String::from_utf8_lossy(t)
            );
        }
    }

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
