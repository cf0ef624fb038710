//! "The page said Blocked by Warden and showed `proto error: no records found for Query {...}`"
//! (issue 24, bug 12): a site that cannot be reached gets a page that says so in words, names
//! no internals, and does not claim a block.

use crate::support::curl::curl;
use crate::support::gateway::{GatewayOptions, GatewayProcess};
use crate::support::origin::Origin;

#[test]
fn an_unreachable_site_is_not_called_blocked_and_shows_no_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    // `.invalid` never resolves (RFC 6761): NXDOMAIN, or a timeout where no DNS answers.
    let page = curl(&[
        "-sS",
        "--max-time",
        "60",
        "-x",
        &gw.proxy_url(),
        "-H",
        "Accept: text/html",
        "http://no-such-host.invalid/",
    ]);
    assert!(
        page.status == 502 || page.status == 504,
        "{} {}",
        page.status,
        page.body_text()
    );
    let body = page.body_text();
    assert!(body.contains("no-such-host.invalid"), "{body}");
    for internal in ["Query {", "proto error", "ResolveError", "Some(", "kind:"] {
        assert!(
            !body.contains(internal),
            "debug text {internal:?} on the page: {body}"
        );
    }
    assert!(body.contains("Nothing was blocked"), "{body}");
    assert!(!body.contains("Blocked by Warden"), "{body}");
    assert_eq!(page.header("x-warden-action"), Some("error"));
}
