//! Host names as the gateway sees them, and host patterns as catalog and policy files write them.
//!
//! Normalisation: ASCII lowercase, one trailing dot stripped, IDNs converted to punycode, IP
//! literals recognised (they only ever match exact entries, never `*.` wildcards). Ports are the
//! caller's business: a host with an unbracketed `:` that is not an IPv6 address is rejected.
//! Nothing here allocates when the host is already in normal form (the hot path).

use std::borrow::Cow;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv6Addr;

/// Longest host name we accept (RFC 1035 limit for the presentation form).
pub const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Why a host name cannot be matched against anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("empty host name")]
    Empty,
    #[error("host name longer than {MAX_HOST_LEN} characters")]
    TooLong,
    #[error("host name has an empty label or a label longer than {MAX_LABEL_LEN} characters")]
    BadLabel,
    #[error("host name contains {0:?}, which is not allowed in a host name")]
    BadChar(char),
    #[error("host name is not a valid internationalised domain name")]
    BadIdn,
    #[error("host name has a port or is a malformed IPv6 literal")]
    BadIpLiteral,
}

/// A host in normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalHost<'a> {
    /// Lowercase ASCII, no trailing dot; IPv6 literals keep their brackets.
    pub name: Cow<'a, str>,
    /// An IPv4 or IPv6 literal (including forms such as `2130706433` that clients read as IPv4).
    pub is_ip: bool,
    /// Number of dot-separated labels (1 for an IPv6 literal).
    pub labels: usize,
}

/// Normalises `host` (see the module doc). Borrows when `host` is already normal.
pub fn normalize_host(host: &str) -> Result<NormalHost<'_>, HostError> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(HostError::Empty);
    }
    let scanned = match scan(host) {
        Err(HostError::BadChar(':' | '[')) => return normalize_ipv6(host),
        other => other?,
    };
    let Scan {
        shape,
        is_ip,
        labels,
    } = scanned;
    match shape {
        Shape::Normal => Ok(NormalHost {
            name: Cow::Borrowed(host),
            is_ip,
            labels,
        }),
        // Lowercasing changes neither the labels nor what looks like a number.
        Shape::Upper => Ok(NormalHost {
            name: Cow::Owned(host.to_ascii_lowercase()),
            is_ip,
            labels,
        }),
        Shape::NonAscii => {
            let ascii = idna::domain_to_ascii(host).map_err(|_| HostError::BadIdn)?;
            let ascii = ascii.strip_suffix('.').map(str::to_owned).unwrap_or(ascii);
            match scan(&ascii)? {
                Scan {
                    shape: Shape::Normal,
                    is_ip,
                    labels,
                } => Ok(NormalHost {
                    name: Cow::Owned(ascii),
                    is_ip,
                    labels,
                }),
                _ => Err(HostError::BadIdn),
            }
        }
    }
}

/// A host in normal form lent to a closure (see [`with_normal_host`]).
pub(crate) struct NormalRef<'a> {
    pub name: &'a str,
    pub is_ip: bool,
    pub labels: usize,
    /// `name` differs from the input (case, IDN, trailing dot aside).
    pub changed: bool,
}

/// Calls `f` with `host` in normal form. Unlike [`normalize_host`] it lowercases into a stack
/// buffer, so only IDNs and IPv6 literals allocate: the lookup hot path stays allocation-free.
#[inline]
pub(crate) fn with_normal_host<R>(
    host: &str,
    f: impl FnOnce(NormalRef<'_>) -> R,
) -> Result<R, HostError> {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    match scan(trimmed) {
        Ok(Scan {
            shape: Shape::Normal,
            is_ip,
            labels,
        }) if !trimmed.is_empty() => Ok(f(NormalRef {
            name: trimmed,
            is_ip,
            labels,
            changed: false,
        })),
        Ok(Scan {
            shape: Shape::Upper,
            is_ip,
            labels,
        }) => {
            // `scan` accepted at most MAX_HOST_LEN ASCII bytes.
            let mut buf = [0u8; MAX_HOST_LEN];
            let lower = buf.get_mut(..trimmed.len()).ok_or(HostError::TooLong)?;
            lower.copy_from_slice(trimmed.as_bytes());
            lower.make_ascii_lowercase();
            let name = std::str::from_utf8(lower).map_err(|_| HostError::BadIdn)?;
            Ok(f(NormalRef {
                name,
                is_ip,
                labels,
                changed: true,
            }))
        }
        _ => {
            let normal = normalize_host(host)?;
            Ok(f(NormalRef {
                name: &normal.name,
                is_ip: normal.is_ip,
                labels: normal.labels,
                changed: true,
            }))
        }
    }
}

fn normalize_ipv6(host: &str) -> Result<NormalHost<'_>, HostError> {
    let inner = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addr: Ipv6Addr = inner.parse().map_err(|_| HostError::BadIpLiteral)?;
    Ok(NormalHost {
        name: Cow::Owned(format!("[{addr}]")),
        is_ip: true,
        labels: 1,
    })
}

enum Shape {
    Normal,
    Upper,
    NonAscii,
}

struct Scan {
    shape: Shape,
    is_ip: bool,
    labels: usize,
}

const BAD: u8 = 0;
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
const UPPER: u8 = 3;
const DOT: u8 = 4;
const HIGH: u8 = 5;

/// Byte classes, so the scan is one table load and one branch per byte.
const CLASS: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' | b'-' | b'_' => LETTER,
            b'0'..=b'9' => DIGIT,
            b'A'..=b'Z' => UPPER,
            b'.' => DOT,
            0x80..=0xff => HIGH,
            _ => BAD,
        };
        i += 1;
    }
    t
};

/// One pass over the bytes: allowed characters, label lengths, whether the last label is a
/// number (an IP literal), and whether work is needed. Non-ASCII names are handed to IDNA as
/// they are; its ASCII output is scanned again.
fn scan(host: &str) -> Result<Scan, HostError> {
    let bytes = host.as_bytes();
    if bytes.len() > MAX_HOST_LEN * 4 {
        // Even a fully non-ASCII name cannot be this long once encoded; stop before IDNA work.
        return Err(HostError::TooLong);
    }
    let mut shape = Shape::Normal;
    let mut label_start = 0;
    let mut numeric = true;
    let mut labels = 1;
    for (i, &b) in bytes.iter().enumerate() {
        match CLASS[usize::from(b)] {
            LETTER => numeric = false,
            DIGIT => {}
            UPPER => {
                numeric = false;
                shape = Shape::Upper;
            }
            DOT => {
                if i == label_start || i - label_start > MAX_LABEL_LEN {
                    return Err(HostError::BadLabel);
                }
                label_start = i + 1;
                labels += 1;
                numeric = true;
            }
            HIGH => {
                return Ok(Scan {
                    shape: Shape::NonAscii,
                    is_ip: false,
                    labels: 0,
                })
            }
            _ => return Err(HostError::BadChar(char::from(b))),
        }
    }
    let last = &host[label_start..];
    if last.is_empty() || last.len() > MAX_LABEL_LEN {
        return Err(HostError::BadLabel);
    }
    if bytes.len() > MAX_HOST_LEN {
        return Err(HostError::TooLong);
    }
    // The WHATWG URL rule: a host whose last label is a number is parsed as IPv4 by clients
    // (`127.1`, `0x7f.0.0.1`, `2130706433`), so it must be treated as an IP literal.
    let hex = last.len() > 2
        && last[..2].eq_ignore_ascii_case("0x")
        && last.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    Ok(Scan {
        shape,
        is_ip: numeric || hex,
        labels,
    })
}

/// FxHash-style hasher for host-name keys: the keys are ours (catalog and policy files), the
/// lookups never insert, so flooding is not a concern and speed is.
#[derive(Default, Clone, Copy)]
pub(crate) struct HostHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl HostHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for HostHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The table uses the top bits for its control bytes; fold the low bits up.
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
}

/// Hash-map builder for host-keyed tables.
pub(crate) type HostHash = BuildHasherDefault<HostHasher>;

/// The host (lowercase, no port, no brackets, no trailing dot) of a `Host` header value.
pub fn header_host_name(value: &str) -> Option<String> {
    let value = value.trim();
    let host = if let Some(rest) = value.strip_prefix('[') {
        rest.split_once(']')?.0
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            Some(_) => return None,
            None => value,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// The host of an `http(s)://HOST[:PORT][/...]` URL.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    header_host_name(authority)
}

#[cfg(test)]
mod tests;
