//! The few pieces of PDF syntax the text extractor needs, over raw bytes: finding a keyword,
//! reading a dictionary's value by key, integers, names, and object headers (`12 0 obj`).
//! Everything is a bounded forward or backward scan; nothing trusts a length it read.

/// PDF white-space characters.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0c | 0)
}

/// PDF delimiters.
pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// The first occurrence of `needle` in `hay` at or after `from`.
pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at + needle.len() <= hay.len() {
        let offset = hay.get(at..)?.iter().position(|&b| b == first)?;
        at += offset;
        if hay.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// `at` moved past white space.
pub(crate) fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

/// The unsigned integer at `at` and where it ends.
pub(crate) fn integer(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let digits = bytes
        .get(at..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let text = std::str::from_utf8(bytes.get(at..at + digits)?).ok()?;
    Some((text.parse().ok()?, at + digits))
}

/// Where the value of `/key` starts in `dict` (past white space), for a whole-name match.
pub(crate) fn value_of(dict: &[u8], key: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find(dict, key, from) {
        let end = at + key.len();
        let whole = at > 0
            && dict[at - 1] == b'/'
            && dict
                .get(end)
                .is_none_or(|&b| is_space(b) || is_delimiter(b));
        if whole {
            return Some(skip_space(dict, end));
        }
        from = at + 1;
    }
    None
}

/// The name (without its slash) at `at`, if one starts there.
pub(crate) fn name_at(bytes: &[u8], at: usize) -> Option<&[u8]> {
    if bytes.get(at) != Some(&b'/') {
        return None;
    }
    let len = bytes
        .get(at + 1..)?
        .iter()
        .take_while(|&&b| !is_space(b) && !is_delimiter(b))
        .count();
    bytes.get(at + 1..at + 1 + len)
}

/// Whether `/key` in `dict` has the name value `/value`.
pub(crate) fn has_name(dict: &[u8], key: &[u8], value: &[u8]) -> bool {
    value_of(dict, key).and_then(|at| name_at(dict, at)) == Some(value)
}

/// An indirect reference `N G R` at `at`: the object number and where it ends.
pub(crate) fn reference(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let (num, end) = integer(bytes, at)?;
    let (_, end) = integer(bytes, skip_space(bytes, end))?;
    let end = skip_space(bytes, end);
    (bytes.get(end) == Some(&b'R')).then_some((u32::try_from(num).ok()?, end + 1))
}

/// The object number of the `N G obj` header that ends just before `end` (white space allowed).
pub(crate) fn object_number_before(bytes: &[u8], end: usize) -> Option<u32> {
    let mut at = end;
    while at > 0 && is_space(bytes[at - 1]) {
        at -= 1;
    }
    if at < 3 || bytes.get(at - 3..at) != Some(b"obj") {
        return None;
    }
    at -= 3;
    let gen_end = trim_space_back(bytes, at);
    let gen_start = digits_back(bytes, gen_end);
    if gen_start == gen_end {
        return None;
    }
    let num_end = trim_space_back(bytes, gen_start);
    let num_start = digits_back(bytes, num_end);
    let (num, _) = integer(bytes, num_start)?;
    (num_start < num_end).then_some(u32::try_from(num).ok()?)
}

fn trim_space_back(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && is_space(bytes[at - 1]) {
        at -= 1;
    }
    at
}

fn digits_back(bytes: &[u8], mut at: usize) -> usize {
    let end = at;
    while at > 0 && bytes[at - 1].is_ascii_digit() && end - at < 18 {
        at -= 1;
    }
    at
}
