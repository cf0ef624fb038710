//! Catalog lookups per second: exact hits, subdomain (wildcard) hits, misses, path-prefixed
//! hosts, and the mix of all four. Throughput is reported in lookups (elements) per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use policies::Catalog;
use std::fmt::Write as _;
use std::hint::black_box;

const APPS: usize = 2_000;

/// A catalog shaped like the real one: every app has a usage host, a wildcard and an API host;
/// every tenth shares a host with others through path prefixes.
fn catalog() -> Catalog {
    let mut text = String::new();
    for i in 0..APPS {
        let prefixed = if i % 10 == 0 {
            format!(", \"hub.shared.example/app{i}\"")
        } else {
            String::new()
        };
        let _ = write!(
            text,
            "[[app]]\nid = \"app-{i}\"\nname = \"App {i}\"\nvendor = \"V\"\nvendor_country = \"US\"\n\
             category = \"chat\"\nrisk = 3\nrisk_reasons = [\"r\"]\nsource = \"https://example.com/\"\n\
             hosts = [\"app{i}.example\", \"*.app{i}.example\"{prefixed}]\napi_hosts = [\"api.app{i}.io\"]\n\n"
        );
    }
    text.push_str(
        "[[app]]\nid = \"hub\"\nname = \"Hub\"\nvendor = \"V\"\nvendor_country = \"US\"\n\
         category = \"data\"\nrisk = 2\nrisk_reasons = [\"r\"]\nsource = \"https://example.com/\"\nhosts = [\"hub.shared.example\"]\n",
    );
    match Catalog::from_sources(&[("bench.toml", &text)]) {
        Ok(c) => c,
        Err(e) => panic!("bench catalog invalid: {e}"),
    }
}

fn requests(kind: &str) -> Vec<(String, String)> {
    (0..1024usize)
        .map(|n| {
            let i = (n * 7919) % APPS;
            let host = match kind {
                "exact" => format!("app{i}.example"),
                "subdomain" => format!("chat.eu.app{i}.example"),
                "miss" => format!("static{i}.cdn.example.org"),
                "prefixed" => "hub.shared.example".to_owned(),
                "uppercase" => format!("App{i}.Example"),
                _ => unreachable!(),
            };
            let path = if kind == "prefixed" {
                format!("/app{}/chat", (i / 10) * 10)
            } else {
                "/backend-api/conversation".into()
            };
            (host, path)
        })
        .collect()
}

fn mixed() -> Vec<(String, String)> {
    let parts = ["exact", "subdomain", "miss", "prefixed"].map(requests);
    (0..1024).map(|n| parts[n % 4][n].clone()).collect()
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let mut group = c.benchmark_group("catalog_match");
    let sets = ["exact", "subdomain", "miss", "prefixed", "uppercase"]
        .into_iter()
        .map(|k| (k.to_owned(), requests(k)))
        .chain([("mixed".to_owned(), mixed())]);
    for (name, reqs) in sets {
        let hits = reqs
            .iter()
            .filter(|(h, p)| catalog.match_url(h, p).is_some())
            .count();
        let expect_hits = if name == "miss" { 0 } else { reqs.len() };
        let expect_hits = if name == "mixed" {
            reqs.len() * 3 / 4
        } else {
            expect_hits
        };
        assert_eq!(
            hits, expect_hits,
            "{name}: the bench must measure what it says"
        );
        group.throughput(Throughput::Elements(reqs.len() as u64));
        group.bench_function(&name, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for (host, path) in &reqs {
                    found += usize::from(
                        catalog
                            .match_url(black_box(host), black_box(path))
                            .is_some(),
                    );
                }
                found
            })
        });
    }
    group.finish();
    // The shipped catalog: every listed host once (wildcards probed one level down), then as
    // many everyday non-AI hosts as misses.
    if let Ok(shipped) = Catalog::embedded() {
        let mut reqs: Vec<(String, String)> = Vec::new();
        for app in shipped.apps() {
            for h in app
                .hosts
                .iter()
                .chain(&app.api_hosts)
                .chain(&app.support_hosts)
            {
                let host = if h.is_wildcard() {
                    format!("www.{}", h.host())
                } else {
                    h.host().to_owned()
                };
                reqs.push((host, h.path_prefix().unwrap_or("/").to_owned()));
            }
        }
        let hits = reqs.len();
        let misses = [
            "www.google.com",
            "fonts.gstatic.com",
            "www.wikipedia.org",
            "cdn.jsdelivr.net",
            "news.ycombinator.com",
        ];
        for i in 0..hits {
            reqs.push((format!("s{i}.{}", misses[i % misses.len()]), "/".to_owned()));
        }
        let mut g = c.benchmark_group("embedded");
        g.throughput(Throughput::Elements(reqs.len() as u64));
        g.bench_function("half_hits", |b| {
            b.iter(|| {
                reqs.iter()
                    .filter(|(h, p)| shipped.match_url(black_box(h), black_box(p)).is_some())
                    .count()
            })
        });
        g.finish();
    }

    // Baselines in the same run: normalising alone, and a std SipHash map probe per host.
    let reqs = requests("exact");
    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Elements(reqs.len() as u64));
    g.bench_function("normalize", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (h, _) in &reqs {
                n += policies::host::normalize_host(black_box(h))
                    .map(|x| x.name.len())
                    .unwrap_or(0);
            }
            n
        })
    });
    let map: std::collections::HashMap<String, usize> = (0..APPS)
        .flat_map(|i| {
            [
                format!("app{i}.example"),
                format!("api.app{i}.io"),
                format!("app{i}.example.x"),
            ]
        })
        .enumerate()
        .map(|(i, h)| (h, i))
        .collect();
    g.bench_function("siphash_map", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (h, _) in &reqs {
                n += map.get(black_box(h.as_str())).copied().unwrap_or(0);
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
