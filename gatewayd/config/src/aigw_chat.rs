//! The `[aigw.chat]` section: the sanctioned chat page, served by the AI gateway at
//! `https://<aigw.host>/chat` to people the proxy or the agent identified, and the link that
//! block pages for unapproved chat apps show to it, in the security team's words.
//!
//! What this module must never do: turn the page on without `aigw.host` and
//! `[aigw.identity] allow` (its only callers are identified people), or accept a link that is
//! not `https://` or text that could end an HTML attribute or a header line.

use serde::Deserialize;

/// The chat page and the block pages' link to it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwChat {
    /// Serve the page at `https://<aigw.host>/chat` (through the proxy or the agent only).
    pub enabled: bool,
    /// The page's heading.
    pub title: String,
    /// A note from the security team shown above the conversation (what may be shared).
    pub notice: Option<String>,
    /// Where block pages for unapproved chat apps send people; unset: the page itself,
    /// `https://<aigw.host>/chat`, when it is enabled.
    pub url: Option<String>,
    /// The sentence block pages show with that link; unset: `DEFAULT_BLOCK_PAGE_TEXT` (the
    /// link is there whenever there is a page to link to).
    pub block_page_text: Option<String>,
}

impl Default for AigwChat {
    fn default() -> Self {
        Self {
            enabled: false,
            title: "AI chat".into(),
            notice: None,
            url: None,
            block_page_text: None,
        }
    }
}

/// What block pages say with the link to the sanctioned chat when `block_page_text` is unset.
pub const DEFAULT_BLOCK_PAGE_TEXT: &str = "Use the organisation's approved AI chat instead:";

/// The link a block page for an unapproved chat app shows: (url, text). There is one as soon
/// as there is a page (`enabled`, or `url`): people sent away from an unapproved app are
/// shown the sanctioned one without a further setting.
pub fn block_page_link(aigw: &crate::AigwConfig) -> Option<(String, &str)> {
    let chat = &aigw.chat;
    let text = chat
        .block_page_text
        .as_deref()
        .unwrap_or(DEFAULT_BLOCK_PAGE_TEXT);
    let url = match (&chat.url, &aigw.host) {
        (Some(url), _) => url.clone(),
        (None, Some(host)) if chat.enabled => format!("https://{host}/chat"),
        _ => return None,
    };
    Some((url, text))
}

fn printable(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.len() <= max && !text.chars().any(char::is_control)
}

/// Checks what types cannot: returns the key to point at and the message.
pub(crate) fn validate(aigw: &crate::AigwConfig) -> Result<(), (&'static str, String)> {
    let chat = &aigw.chat;
    if chat.enabled && (aigw.host.is_none() || !aigw.identity.allow) {
        return Err((
            "enabled",
            "[aigw.chat] enabled = true needs aigw.host and [aigw.identity] allow = true: the \
             page serves people the proxy or the agent identified, by that name"
                .into(),
        ));
    }
    if !printable(&chat.title, 100) {
        return Err((
            "title",
            "[aigw.chat] title must be 1-100 printable characters".into(),
        ));
    }
    if chat.notice.as_deref().is_some_and(|n| !printable(n, 2000)) {
        return Err((
            "notice",
            "[aigw.chat] notice must be 1-2000 characters without control characters".into(),
        ));
    }
    if let Some(url) = &chat.url {
        let rest = url.strip_prefix("https://").unwrap_or_default();
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let safe = url.len() <= 500
            && !host.is_empty()
            && url
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '\\'));
        if !safe {
            return Err((
                "url",
                format!("[aigw.chat] url {url:?} must be an https:// URL (printable ASCII, no quotes or angle brackets)"),
            ));
        }
    }
    if let Some(text) = &chat.block_page_text {
        if !printable(text, 1000) {
            return Err((
                "block_page_text",
                "[aigw.chat] block_page_text must be 1-1000 characters without control characters"
                    .into(),
            ));
        }
        if chat.url.is_none() && !chat.enabled {
            return Err((
                "block_page_text",
                "[aigw.chat] block_page_text needs a page to link to: enabled = true or url".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::AigwConfig;

    fn config(toml_text: &str) -> AigwConfig {
        let config: crate::Config = toml::from_str(toml_text).unwrap();
        config.aigw
    }

    #[test]
    fn the_page_needs_the_name_and_identity_callers() {
        let on = "[aigw]\nhost = \"ai.corp.example\"\n[aigw.identity]\nallow = true\n\
                  [aigw.chat]\nenabled = true\nblock_page_text = \"Use our chat\"\n";
        let aigw = config(on);
        assert!(super::validate(&aigw).is_ok());
        assert_eq!(
            super::block_page_link(&aigw),
            Some(("https://ai.corp.example/chat".to_string(), "Use our chat"))
        );
        let no_identity =
            config("[aigw]\nhost = \"ai.corp.example\"\n[aigw.chat]\nenabled = true\n");
        assert_eq!(super::validate(&no_identity).unwrap_err().0, "enabled");
        let off = config("[aigw]\n[aigw.chat]\nblock_page_text = \"x\"\n");
        assert_eq!(super::validate(&off).unwrap_err().0, "block_page_text");
        assert_eq!(super::block_page_link(&off), None);
        // Enabled with no sentence of its own: linked all the same, in default words.
        let plain = config(
            "[aigw]\nhost = \"ai.corp.example\"\n[aigw.identity]\nallow = true\n\
             [aigw.chat]\nenabled = true\n",
        );
        assert_eq!(
            super::block_page_link(&plain),
            Some((
                "https://ai.corp.example/chat".to_string(),
                super::DEFAULT_BLOCK_PAGE_TEXT
            ))
        );
        assert_eq!(super::block_page_link(&config("[aigw]\n")), None);
    }

    #[test]
    fn links_and_texts_are_checked() {
        for bad in [
            "url = \"http://chat.corp.example\"",
            "url = \"https://\"",
            "url = \"https://x/\\\"><script>\"",
            "title = \"\"",
            "notice = \"a\\nb\"",
        ] {
            let aigw = config(&format!("[aigw]\n[aigw.chat]\n{bad}\n"));
            assert!(super::validate(&aigw).is_err(), "{bad}");
        }
        let elsewhere = config(
            "[aigw]\n[aigw.chat]\nurl = \"https://chat.corp.example/\"\nblock_page_text = \"Ours\"\n",
        );
        assert!(super::validate(&elsewhere).is_ok());
        assert_eq!(
            super::block_page_link(&elsewhere).unwrap().0,
            "https://chat.corp.example/"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<crate::Config>("[aigw.chat]\nenable = true\n");
        assert!(err.is_err());
    }
}
