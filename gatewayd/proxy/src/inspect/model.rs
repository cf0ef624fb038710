//! The model a JSON prompt names (`"model": "gpt-4o"`), for the event's `model` column: read
//! from the first bytes of a body already in memory for inspection, with no JSON parse. Only
//! a short printable name is kept; anything else is no model.

/// How far into the body the `"model"` key is looked for.
const HEAD: usize = 8 * 1024;
/// The longest model name kept.
const MAX_NAME: usize = 128;

/// The first `"model": "..."` string value in the head of `body`.
pub fn model_of(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(HEAD)];
    let mut from = 0;
    while let Some(at) = find(&head[from..], b"\"model\"") {
        let rest = trim(&head[from + at + 7..]);
        from += at + 7;
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let Some(rest) = trim(rest).strip_prefix(b"\"") else {
            continue;
        };
        let end = rest.iter().position(|&b| b == b'"')?;
        let name = &rest[..end];
        let printable = name.iter().all(|&b| b.is_ascii_graphic() && b != b'\\');
        return (!name.is_empty() && name.len() <= MAX_NAME && printable)
            .then(|| String::from_utf8_lossy(name).into_owned());
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[skip..]
}

#[cfg(test)]
mod tests {
    use super::model_of;

    #[test]
    fn the_model_a_prompt_names_is_read_from_its_head() {
        assert_eq!(
            model_of(br#"{"model": "gpt-4o", "messages": []}"#).as_deref(),
            Some("gpt-4o")
        );
        assert_eq!(
            model_of(br#"{"action":"next","messages":[],"model":"gpt-4o-mini"}"#).as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            model_of(br#"{"model_slug":"x","text":"\"model\" is a word"}"#),
            None
        );
        assert_eq!(model_of(br#"{"model": 4}"#), None);
        assert_eq!(
            model_of(br#"{"model": "<script>alert(1)</script> x"}"#),
            None
        );
        assert_eq!(model_of(br#"{"model": "gpt-4"#), None);
        assert_eq!(model_of(b""), None);
    }
}
