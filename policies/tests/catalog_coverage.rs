//! The shipped catalog against host lists written for this test: every popular non-AI host in
//! `testdata/catalog/top-sites.txt`, and every non-AI host that public AI-domain lists carry
//! (`testdata/catalog/not-ai-on-ai-lists.txt`: payment, login, telemetry, shared cloud hosts),
//! matches no app (false positives block or flag ordinary work), and at least 95 % of the AI
//! hosts in `testdata/catalog/ai-hosts.txt` match one.

use policies::Catalog;

fn hosts(file: &str) -> Vec<String> {
    let path = format!("{}/testdata/catalog/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn catalog() -> Catalog {
    Catalog::embedded().unwrap_or_else(|e| panic!("shipped catalog invalid:\n{e}"))
}

#[test]
fn no_popular_non_ai_site_matches_an_app() {
    let catalog = catalog();
    let mut sites = hosts("top-sites.txt");
    assert!(sites.len() >= 200, "top-sites list too short");
    sites.extend(hosts("not-ai-on-ai-lists.txt"));
    let hits: Vec<String> = sites
        .iter()
        .filter_map(|h| {
            catalog
                .match_url(h, "/")
                .map(|m| format!("{h} -> {} via {}", m.app.id, m.pattern))
        })
        .collect();
    assert!(hits.is_empty(), "false positives:\n{}", hits.join("\n"));
}

#[test]
fn ai_hosts_people_use_are_recognised() {
    let catalog = catalog();
    let ai = hosts("ai-hosts.txt");
    let misses: Vec<&String> = ai
        .iter()
        .filter(|h| catalog.match_url(h, "/").is_none())
        .collect();
    let recall = 1.0 - misses.len() as f64 / ai.len() as f64;
    eprintln!(
        "recall {recall:.3} on {} AI hosts; misses: {misses:?}",
        ai.len()
    );
    assert!(
        recall >= 0.95,
        "recall {recall:.3} < 0.95; misses: {misses:?}"
    );
}

#[test]
fn the_catalog_holds_a_thousand_sourced_apps() {
    let catalog = catalog();
    assert!(
        catalog.apps().len() >= 1000,
        "{} apps",
        catalog.apps().len()
    );
    for app in catalog.apps() {
        assert!(
            app.source.starts_with("https://"),
            "{}: {}",
            app.id,
            app.source
        );
    }
}

#[test]
fn a_wildcard_over_a_registrable_domain_covers_the_domain_itself() {
    // `*.oaistatic.com` never matched `oaistatic.com`: the catalog lists both.
    let catalog = catalog();
    for app in catalog.apps() {
        for p in app
            .hosts
            .iter()
            .chain(&app.support_hosts)
            .chain(&app.api_hosts)
        {
            let two_labels = p.host().bytes().filter(|&b| b == b'.').count() == 1;
            if p.is_wildcard() && two_labels {
                assert!(
                    catalog.match_url(p.host(), "/").is_some(),
                    "{}: {} does not cover {}",
                    app.id,
                    p.as_str(),
                    p.host()
                );
            }
        }
    }
}
