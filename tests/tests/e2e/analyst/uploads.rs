//! "Which file did we stop?" (bug 8): a blocked upload's event names the file — a browser's
//! form (`filename=`), an SDK's RFC 8187 name (`filename*=UTF-8''...`), and a PDF posted as
//! plain text with no name at all (told by its bytes) — and the analyst reads it on the
//! event page. And the audited prompt of an app whose endpoint has no prompt fields keeps
//! what the person wrote, not the role, model or id markers around it.

use crate::report::{api, token};
use crate::support::curl;
use crate::support::webdriver::Browser;

use super::{start, wait_query};

const POLICY: &str = r#"
version = "uploads-test-1"

[[rule]]
id = "no-uploads-to-chatgpt"
when = { app = "chatgpt" }
action = "block_uploads"

[[rule]]
id = "audit-claude"
when = { app = "claude" }
action = "audit"
"#;

#[test]
fn a_blocked_upload_names_its_file_and_an_audited_prompt_is_only_what_was_written() {
    let s = start(POLICY, Vec::new());
    let proxy = s.gw.proxy_url();
    let root = s.gw.root_pem.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let through = |extra: &[&str]| {
        let mut args = vec!["-x", proxy.as_str(), "--cacert", root.as_str()];
        args.extend(extra);
        curl(&args)
    };
    let mut ids = Vec::new();

    // A browser's form upload: curl -F writes `filename="board minutes.docx"`.
    let docx = dir.path().join("minutes.docx");
    std::fs::write(
        &docx,
        b"PK\x03\x04 not really a docx, the name is what matters",
    )
    .unwrap();
    let form = through(&[
        "-F",
        &format!("file=@{};filename=\"board minutes.docx\"", docx.display()),
        "https://chatgpt.com/backend-api/files",
    ]);
    // An SDK's upload with an RFC 8187 name.
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"file\"; \
                filename*=UTF-8''Q3%20Falcon%20plan%20%C3%A9t%C3%A9.pdf\r\n\
                Content-Type: application/pdf\r\n\r\n%PDF-1.7\n1 0 obj\n<<>>\nendobj\r\n--XyZ--\r\n";
    let sdk = through(&[
        "-H",
        "Content-Type: multipart/form-data; boundary=XyZ",
        "--data-binary",
        body,
        "https://chatgpt.com/backend-api/files",
    ]);
    // A PDF sent as text to a path that is no upload endpoint: told by its bytes.
    let pdf = dir.path().join("q.bin");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    .unwrap();
    let sniffed = through(&[
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        &format!("@{}", pdf.display()),
        "https://chatgpt.com/backend-api/notes",
    ]);
    for (refused, name) in [
        (&form, "board minutes.docx"),
        (&sdk, "Q3 Falcon plan été.pdf"),
        (&sniffed, "unnamed pdf"),
    ] {
        assert_eq!(refused.status, 403, "{name}: {}", refused.body_text());
        assert_eq!(refused.header("x-warden-action"), Some("block"));
        ids.push((
            refused.header("x-warden-request-id").unwrap().to_string(),
            name,
        ));
    }

    // An audited prompt to an endpoint the catalog has no prompt fields for.
    let chat = through(&[
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"model":"claude-3-opus","id":"msg-7f3a","messages":[{"role":"user","content":"Summarise the Falcon board pack"}],"stream":false}"#,
        "https://claude.ai/api/some/new/endpoint",
    ]);
    assert_eq!(chat.status, 200, "{}", chat.body_text());
    let chat_id = chat.header("x-warden-request-id").unwrap().to_string();

    let listed = wait_query(
        &s.clickhouse,
        "SELECT request_id, blocked, upload, file_names FROM warden.http_events \
         WHERE app_id = 'chatgpt' ORDER BY ts FORMAT TSV",
        |t| t.lines().count() == 3,
    );
    for (id, name) in &ids {
        let line = listed.lines().find(|l| l.starts_with(id.as_str())).unwrap();
        assert!(line.contains("\t1\t1\t"), "blocked upload: {line}");
        assert!(line.contains(name), "{name} in {line}");
    }
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events WHERE app_id = 'claude'",
        |n| n == "1",
    );

    // The analyst opens each blocked upload's event page and reads the file's name.
    let base = format!("http://{}", s.gw.admin);
    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    for (i, (id, name)) in ids.iter().enumerate() {
        browser.goto(&format!("{base}/events/{id}"));
        assert_eq!(browser.text("#event-uploads"), *name);
        assert!(browser.text("#event-action").contains("block"));
        browser.screenshot(&format!("analyst-1{i}-blocked-upload"));
    }

    // The investigator reads the audited prompt: the words, no markers.
    let investigator = token(&s.gw, "investigator", "ivy");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while api(&s.gw, &investigator, "/api/v1/apps").0 != 200 {
        assert!(std::time::Instant::now() < deadline, "token not loaded");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    browser.click(".logout button");
    browser.login(&s.gw.admin.to_string(), &investigator);
    browser.goto(&format!("{base}/events/{chat_id}"));
    let prompt = browser.text("#prompt");
    assert_eq!(prompt.trim(), "Summarise the Falcon board pack");
    for marker in ["user", "claude-3-opus", "msg-7f3a"] {
        assert!(!prompt.contains(marker), "{marker} in {prompt:?}");
    }
    browser.screenshot("analyst-13-audited-prompt");
    let _ = &s.admin;
}
