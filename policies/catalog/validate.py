#!/usr/bin/env python3
"""Validate the AI application catalog (every *.toml in this folder) against SCHEMA.md.

Mirrors the Rust loader in policies/src/catalog (load.rs, index.rs, path.rs, host_pattern.rs):
allowed and required keys, id format and uniqueness, categories, risk range, ISO country code,
host pattern shape, shared-domain wildcards, path and field pattern shape, and no host pattern
claimed twice across all files. It also replays the shipped-catalog test: every plain usage or
API host must resolve to its own app.

It also checks that a wildcard over a registrable domain (`*.example.com`, `*.example.co.uk`)
comes with the bare domain somewhere in the catalog: `*.` never covers the domain itself, and
the bare domain was the most common miss on public AI-domain lists.

Usage: python3 validate.py [--min-apps N] [--strict]
  --min-apps N  fail when fewer than N apps are catalogued (default 1000)
  --strict      treat warnings (style/consistency hints) as errors

Exit status 0 when valid, 1 otherwise. Python 3.11+ (tomllib), standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

CATEGORIES = (
    "chat", "code", "image", "video", "audio", "writing", "meeting",
    "search", "api", "agents", "data", "suite", "other",
)

APP_KEYS = {
    "id", "name", "vendor", "vendor_country", "category", "risk", "risk_reasons",
    "description", "source", "hosts", "support_hosts", "api_hosts", "prompt", "upload",
    "tenant",
}
TENANT_KEYS = {"source", "hosts", "headers", "accounts"}
TENANT_VALUES = {"ids", "context", "policy"}
ACCOUNT_KEYS = {"path", "header", "cookie", "query"}
APP_REQUIRED = ("id", "name", "vendor", "vendor_country", "category", "risk", "risk_reasons", "source")
SOURCE_RE = re.compile(r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.[a-z0-9-]+(?:[/?#][^\s]*)?$", re.I)
PROMPT_KEYS = {"method", "path", "fields"}
UPLOAD_KEYS = {"method", "host", "path"}
HOST_LISTS = ("hosts", "support_hosts", "api_hosts")

# Same list as SHARED_DOMAINS in policies/src/catalog/load.rs: a wildcard over these would claim
# unrelated customers' traffic.
SHARED_DOMAINS = {
    "amazonaws.com", "s3.amazonaws.com", "cloudfront.net", "azureedge.net", "azurefd.net",
    "azurewebsites.net", "blob.core.windows.net", "cloudapp.azure.com", "googleapis.com",
    "storage.googleapis.com", "googleusercontent.com", "appspot.com", "web.app",
    "firebaseapp.com", "run.app", "akamaized.net", "akamaihd.net", "edgekey.net", "fastly.net",
    "cloudflare.net", "workers.dev", "pages.dev", "r2.dev", "herokuapp.com", "vercel.app",
    "netlify.app", "github.io", "githubusercontent.com",
}

# Broad multi-product domains that must never be listed as a plain host or wildcard (use a
# full AI-specific host name or a path prefix instead).
BROAD_DOMAINS = SHARED_DOMAINS | {
    "google.com", "www.google.com", "microsoft.com", "www.microsoft.com", "bing.com",
    "www.bing.com", "office.com", "www.office.com", "live.com", "microsoftonline.com",
    "cloud.microsoft", "apple.com", "amazon.com", "www.amazon.com", "aws.amazon.com",
    "console.aws.amazon.com", "api.aws", "on.aws", "azure.com", "windows.net",
    "core.windows.net", "github.com", "api.github.com", "gitlab.com", "x.com", "twitter.com",
    "facebook.com", "instagram.com", "whatsapp.com", "linkedin.com", "youtube.com",
    "gstatic.com", "clients6.google.com", "withgoogle.com", "cloudflare.com",
    "api.cloudflare.com", "akamai.net", "yandex.ru", "baidu.com", "qq.com", "tencent.com",
    "aliyun.com", "alibabacloud.com", "aliyuncs.com", "naver.com", "figma.com", "www.figma.com",
    "canva.com", "www.canva.com", "notion.so", "www.notion.so", "zoom.us", "dropbox.com",
    "adobe.com", "salesforce.com", "atlassian.com", "slack.com", "duckduckgo.com",
    "kagi.com", "sourcegraph.com",
}

ISO_3166_ALPHA2 = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# Second-level labels under country codes where names are registered (example.co.uk).
SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"}

ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
METHOD_RE = re.compile(r"^[A-Z]+$")
LABEL_RE = re.compile(r"^[a-z0-9_-]{1,63}$")
MAX_HOST_LEN = 253


@dataclass
class Host:
    """One parsed host pattern."""

    text: str
    host: str  # exact host, or the domain after `*.`
    wildcard: bool
    prefix: str | None


@dataclass
class Entry:
    app: str
    kind: str  # hosts | support_hosts | api_hosts | upload
    file: str
    where: str


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")

    def warn(self, where: str, msg: str) -> None:
        self.warnings.append(f"{where}: {msg}")


def looks_like_ip(name: str) -> bool:
    """WHATWG rule used by the loader: a numeric (or 0x-hex) last label makes it an IP."""
    last = name.rsplit(".", 1)[-1]
    if last.isdigit():
        return True
    return last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:])


def parse_host(text: object) -> tuple[Host | None, str | None]:
    """Parse a host pattern as host_pattern.rs does; return (pattern, error)."""
    if not isinstance(text, str):
        return None, f"host pattern must be a string, got {type(text).__name__}"
    if not text:
        return None, "empty host pattern"
    if "://" in text:
        return None, f"{text!r}: write the host name only, without a scheme"
    if not text.isascii():
        return None, f"{text!r}: write internationalised names in punycode (xn--...)"
    if any(c.isupper() for c in text):
        return None, f"{text!r}: host patterns are written in lowercase"
    host_part, sep, rest = text.partition("/")
    prefix = "/" + rest if sep else None
    if ":" in host_part or host_part.startswith("["):
        return None, f"{text!r}: host patterns have no port (and no IPv6 literals here)"
    if host_part.endswith("."):
        return None, f"{text!r}: host patterns have no trailing dot"
    wildcard = host_part.startswith("*.")
    host = host_part[2:] if wildcard else host_part
    if "*" in host:
        return None, f"{text!r}: `*` may only appear as a leading `*.` label"
    if not host:
        return None, f"{text!r}: empty host name"
    if len(host) > MAX_HOST_LEN:
        return None, f"{text!r}: host name longer than {MAX_HOST_LEN} characters"
    for label in host.split("."):
        if not LABEL_RE.match(label):
            return None, f"{text!r}: label {label!r} is empty, too long or has characters outside [a-z0-9_-]"
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                return None, f"{text!r}: label {label!r} is not valid punycode"
    if wildcard and ("." not in host or looks_like_ip(host)):
        return None, f"{text!r}: a wildcard must cover a domain of at least two labels, never an IP address"
    if prefix is not None:
        if prefix == "/":
            return None, f"{text!r}: the path prefix `/` matches every path: write the plain host"
        if any(c in prefix for c in "?#*") or any(c.isspace() for c in prefix):
            return None, f"{text!r}: a path prefix is a literal path without `?`, `#` or `*`"
    return Host(text, host, wildcard, prefix), None


def check_path(text: object) -> str | None:
    """Path pattern rules from path.rs; return an error or None."""
    if not isinstance(text, str):
        return f"path pattern must be a string, got {type(text).__name__}"
    if not text.startswith("/"):
        return f"path pattern {text!r} must start with `/`"
    if any(c in text for c in "?#") or any(c.isspace() for c in text):
        return f"path pattern {text!r} may not contain `?`, `#` or spaces"
    body = text[1:]
    parts = body.split("/") if body else []
    for i, part in enumerate(parts):
        if part == "**" and i != len(parts) - 1:
            return f"in {text!r}, `**` may only be the last segment"
        if part not in ("*", "**") and "*" in part:
            return f"in {text!r}, `*` must be a whole segment"
    return None


def check_field(text: object) -> str | None:
    """Field path rules from path.rs; return an error or None."""
    if not isinstance(text, str):
        return f"field path must be a string, got {type(text).__name__}"
    if not text:
        return "empty field path"
    if any(key == "" for key in text.split(".")):
        return f"field path {text!r} has an empty key"
    return None


def is_nonempty_str(v: object) -> bool:
    return isinstance(v, str) and v.strip() != ""


def broad(h: Host) -> bool:
    return h.prefix is None and h.host in BROAD_DOMAINS


def check_app(app: dict, where: str, rep: Report) -> tuple[str | None, list[tuple[Host, str, str]]]:
    """Validate one [[app]] table. Return its id (if usable) and its parsed hosts."""
    for key in sorted(set(app) - APP_KEYS):
        rep.error(where, f"unknown field `{key}`")
    for key in APP_REQUIRED:
        if key not in app:
            rep.error(where, f"missing required field `{key}`")

    app_id = app.get("id")
    label = where
    if isinstance(app_id, str):
        label = f"{where} [{app_id}]"
        if not ID_RE.match(app_id):
            rep.error(label, f"app id {app_id!r} must be 1-64 characters of [a-z0-9-], not starting or ending with `-`")
    elif "id" in app:
        rep.error(where, "`id` must be a string")
        app_id = None

    for key in ("name", "vendor"):
        if key in app and not is_nonempty_str(app[key]):
            rep.error(label, f"`{key}` must be a non-empty string")

    country = app.get("vendor_country")
    if "vendor_country" in app:
        if not (isinstance(country, str) and len(country) == 2 and country.isascii() and country.isupper()):
            rep.error(label, f"vendor_country {country!r} must be an ISO 3166-1 alpha-2 code such as \"US\"")
        elif country not in ISO_3166_ALPHA2:
            rep.error(label, f"vendor_country {country!r} is not an assigned ISO 3166-1 alpha-2 code")

    category = app.get("category")
    if "category" in app and category not in CATEGORIES:
        rep.error(label, f"unknown category {category!r}; expected one of: {', '.join(CATEGORIES)}")

    risk = app.get("risk")
    if "risk" in app:
        if not isinstance(risk, int) or isinstance(risk, bool):
            rep.error(label, f"risk must be an integer, got {risk!r}")
        elif not 1 <= risk <= 5:
            rep.error(label, f"risk {risk} is out of range 1..=5")

    reasons = app.get("risk_reasons")
    if "risk_reasons" in app:
        if not isinstance(reasons, list) or not reasons or not all(is_nonempty_str(r) for r in reasons):
            rep.error(label, "risk_reasons needs at least one non-empty reason (a list of strings)")

    if "description" in app:
        desc = app["description"]
        if not isinstance(desc, str):
            rep.error(label, "description must be a string")
        elif "\n" in desc or "\r" in desc:
            rep.error(label, "description is one line")

    if "source" in app:
        src = app["source"]
        if not (isinstance(src, str) and len(src) <= 512 and SOURCE_RE.match(src)):
            rep.error(label, f"source {src!r} must be one https:// URL of the vendor's docs or the app's own pages")

    parsed: list[tuple[Host, str, str]] = []
    for key in HOST_LISTS:
        if key not in app:
            continue
        values = app[key]
        if not isinstance(values, list):
            rep.error(label, f"`{key}` must be a list of host patterns")
            continue
        for value in values:
            h, err = parse_host(value)
            if err:
                rep.error(label, f"{key}: {err}")
                continue
            assert h is not None
            if h.wildcard and h.host in SHARED_DOMAINS:
                rep.error(label, f"{key}: `*.{h.host}` is shared by unrelated customers; list full host names instead")
                continue
            if broad(h) or (h.wildcard and h.host in BROAD_DOMAINS):
                rep.error(label, f"{key}: {h.text!r} is a broad shared domain; use an AI-specific host or a path prefix")
                continue
            parsed.append((h, key, label))

    if not app.get("hosts") and not app.get("api_hosts"):
        rep.error(label, f"app {app_id!r} needs at least one entry in `hosts` or `api_hosts`")

    prompts = app.get("prompt", [])
    if not isinstance(prompts, list):
        rep.error(label, "`prompt` must be an array of tables ([[app.prompt]])")
        prompts = []
    for i, p in enumerate(prompts, 1):
        pw = f"{label} prompt #{i}"
        if not isinstance(p, dict):
            rep.error(pw, "must be a table")
            continue
        for key in sorted(set(p) - PROMPT_KEYS):
            rep.error(pw, f"unknown field `{key}`")
        for key in sorted(PROMPT_KEYS - set(p)):
            rep.error(pw, f"missing required field `{key}`")
        method = p.get("method")
        if "method" in p and not (isinstance(method, str) and METHOD_RE.match(method)):
            rep.error(pw, f"method {method!r} must be an uppercase HTTP method such as \"POST\"")
        if "path" in p and (err := check_path(p["path"])):
            rep.error(pw, err)
        if "fields" in p:
            fields = p["fields"]
            if not isinstance(fields, list) or not fields:
                rep.error(pw, "`fields` needs at least one field path")
            else:
                for f in fields:
                    if err := check_field(f):
                        rep.error(pw, err)
                dup = [f for f, n in Counter(map(str, fields)).items() if n > 1]
                if dup:
                    rep.warn(pw, f"duplicate field paths {dup}")

    uploads = app.get("upload", [])
    if not isinstance(uploads, list):
        rep.error(label, "`upload` must be an array of tables ([[app.upload]])")
        uploads = []
    for i, u in enumerate(uploads, 1):
        uw = f"{label} upload #{i}"
        if not isinstance(u, dict):
            rep.error(uw, "must be a table")
            continue
        for key in sorted(set(u) - UPLOAD_KEYS):
            rep.error(uw, f"unknown field `{key}`")
        for key in ("method", "path"):
            if key not in u:
                rep.error(uw, f"missing required field `{key}`")
        method = u.get("method")
        if "method" in u and method not in ("POST", "PUT"):
            rep.error(uw, f"upload method {method!r} must be \"POST\" or \"PUT\"")
        if "path" in u and (err := check_path(u["path"])):
            rep.error(uw, err)
        if "host" in u:
            h, err = parse_host(u["host"])
            if err:
                rep.error(uw, err)
            elif h is not None:
                if h.prefix is not None:
                    rep.error(uw, "an upload host has no path prefix; use `path`")
                elif h.wildcard and h.host in SHARED_DOMAINS:
                    rep.error(uw, f"`*.{h.host}` is shared by unrelated customers; list full host names instead")
                elif broad(h) or (h.wildcard and h.host in BROAD_DOMAINS):
                    rep.error(uw, f"{h.text!r} is a broad shared domain")
                else:
                    parsed.append((h, "upload", uw))

    if "tenant" in app:
        check_tenant(app["tenant"], f"{label} tenant", rep)

    return (app_id if isinstance(app_id, str) else None), parsed


def check_tenant(t: object, where: str, rep: Report) -> None:
    """Validate an [app.tenant] table: vendor headers, the hosts they go to, account places.
    Its hosts are sign-in and app hosts the headers go to, not the app's own host list."""
    if not isinstance(t, dict):
        rep.error(where, "must be a table")
        return
    for key in sorted(set(t) - TENANT_KEYS):
        rep.error(where, f"unknown field `{key}`")
    if not isinstance(t.get("source"), str) or not SOURCE_RE.match(t["source"]):
        rep.error(where, "`source` must be an https:// URL where the vendor documents it")
    hosts = t.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        rep.error(where, "`hosts` needs at least one host")
        hosts = []
    for text in hosts:
        h, err = parse_host(text)
        if err:
            rep.error(where, err)
        elif h is not None and h.prefix is not None:
            rep.error(where, "a tenant host has no path prefix")
    headers = t.get("headers", [])
    for h in headers if isinstance(headers, list) else []:
        if not isinstance(h, dict) or set(h) != {"name", "value"}:
            rep.error(where, "a header is { name = ..., value = ... }")
        elif h["value"] not in TENANT_VALUES:
            rep.error(where, f"header value {h['value']!r} must be one of {sorted(TENANT_VALUES)}")
    accounts = t.get("accounts", [])
    for a in accounts if isinstance(accounts, list) else []:
        if not isinstance(a, dict) or len(a) != 1 or not set(a) <= ACCOUNT_KEYS:
            rep.error(where, f"an account entry names exactly one of {sorted(ACCOUNT_KEYS)}")
        elif "path" in a and str(a["path"]).split("/").count("{id}") != 1:
            rep.error(where, "an account path needs exactly one `{id}` segment")
    if not headers and not accounts:
        rep.error(where, "a tenant hint needs `headers` or `accounts`")


def lookup(exact: dict, suffix: dict, host: str, path: str = "/") -> Entry | None:
    """Replay HostIndex::lookup (index.rs) for a host and request path."""

    def find(slot: dict | None) -> Entry | None:
        if slot is None:
            return None
        for prefix, entry in sorted(slot["prefixed"], key=lambda pe: -len(pe[0])):
            if path.startswith(prefix):
                return entry
        return slot["plain"]

    if (e := find(exact.get(host))) is not None:
        return e
    if looks_like_ip(host):
        return None
    rest = host
    while "." in rest:
        rest = rest.split(".", 1)[1]
        if (e := find(suffix.get(rest))) is not None:
            return e
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-apps", type=int, default=1000)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    rep = Report()
    files = sorted(HERE.glob("*.toml"))
    if not files:
        print("no catalog files found", file=sys.stderr)
        return 1

    ids: dict[str, str] = {}
    per_category: Counter[str] = Counter()
    per_file: Counter[str] = Counter()
    owner: dict[str, Entry] = {}  # host pattern text -> first entry
    exact: dict[str, dict] = defaultdict(lambda: {"plain": None, "prefixed": []})
    suffix: dict[str, dict] = defaultdict(lambda: {"plain": None, "prefixed": []})
    plain_probes: list[tuple[Host, Entry]] = []
    counts = Counter(prompts=0, uploads=0, hosts=0)

    for path in files:
        name = path.name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            rep.error(name, f"TOML syntax: {e}")
            continue
        for key in sorted(set(data) - {"app"}):
            rep.error(name, f"unknown top-level field `{key}` (expected only [[app]] tables)")
        apps = data.get("app", [])
        if not isinstance(apps, list):
            rep.error(name, "`app` must be an array of tables ([[app]])")
            continue
        if not apps:
            rep.warn(name, "file has no [[app]] entries")
        stem_category = path.stem.split("-", 1)[0]
        for i, app in enumerate(apps, 1):
            where = f"{name} app #{i}"
            if not isinstance(app, dict):
                rep.error(where, "must be a table")
                continue
            app_id, parsed = check_app(app, where, rep)
            if app_id is None:
                continue
            if app_id in ids:
                rep.error(f"{name} [{app_id}]", f"app id {app_id!r} is already defined in {ids[app_id]}")
                continue
            ids[app_id] = name
            cat = app.get("category")
            if cat in CATEGORIES:
                per_category[cat] += 1
                if stem_category in CATEGORIES and stem_category != cat:
                    rep.warn(f"{name} [{app_id}]", f"category {cat!r} differs from the file's category {stem_category!r}")
            per_file[name] += 1
            counts["prompts"] += len(app.get("prompt", []) or [])
            counts["uploads"] += len(app.get("upload", []) or [])

            for h, kind, label in parsed:
                counts["hosts"] += 1
                entry = Entry(app_id, kind, name, label)
                first = owner.get(h.text)
                if first is not None:
                    if first.app == app_id and kind == "upload":
                        continue  # an upload host may repeat one of its own app's hosts
                    if first.app == app_id:
                        rep.error(label, f"host {h.text!r} is listed twice in app {app_id!r}")
                    else:
                        rep.error(label, f"host {h.text!r} of app {app_id!r} is already claimed by app {first.app!r} ({first.file})")
                    continue
                owner[h.text] = entry
                slot = (suffix if h.wildcard else exact)[h.host]
                if h.prefix is None:
                    slot["plain"] = entry
                    if kind in ("hosts", "api_hosts"):
                        plain_probes.append((h, entry))
                else:
                    slot["prefixed"].append((h.prefix, entry))

    # Replay the shipped-catalog test: every plain usage/API host resolves to its own app.
    for h, entry in plain_probes:
        probe = f"probe.{h.host}" if h.wildcard else h.host
        hit = lookup(exact, suffix, probe)
        if hit is None:
            rep.error(entry.where, f"{probe} (from {h.text!r}) does not resolve to any app")
        elif hit.app != entry.app and not h.wildcard:
            rep.error(entry.where, f"{probe} resolves to {hit.app!r}, not {entry.app!r}")

    # A wildcard over a registrable domain needs the bare domain too (listed by some app).
    for text, entry in owner.items():
        h, _ = parse_host(text)
        if h is None or not h.wildcard or h.prefix is not None:
            continue
        labels = h.host.split(".")
        registrable = len(labels) == 2 or (
            len(labels) == 3 and labels[1] in SECOND_LEVEL and len(labels[2]) == 2
        )
        if registrable and lookup(exact, suffix, h.host) is None:
            rep.error(entry.where, f"{text!r} does not cover {h.host!r} itself: list {h.host!r} too")

    # Hints: an exact host of one app that another app's wildcard also covers (exact wins).
    for host, slot in exact.items():
        if slot["plain"] is None:
            continue
        rest = host
        while "." in rest:
            rest = rest.split(".", 1)[1]
            wild = suffix.get(rest)
            if wild and wild["plain"] and wild["plain"].app != slot["plain"].app:
                rep.warn(slot["plain"].where, f"{host!r} is inside *.{rest} of app {wild['plain'].app!r} (exact entry wins)")
                break

    total = sum(per_category.values())
    print("Apps per category:")
    for cat in CATEGORIES:
        print(f"  {cat:<8} {per_category[cat]:>4}")
    print(f"  {'total':<8} {total:>4}")
    print("Apps per file:")
    for fname, n in sorted(per_file.items()):
        print(f"  {fname:<18} {n:>4}")
    print(f"Host patterns: {counts['hosts']}, prompt endpoints: {counts['prompts']}, upload endpoints: {counts['uploads']}")

    if total < args.min_apps:
        rep.error("catalog", f"only {total} apps; at least {args.min_apps} required")

    for w in rep.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in rep.errors:
        print(f"error: {e}", file=sys.stderr)
    failed = bool(rep.errors) or (args.strict and bool(rep.warnings))
    print("FAILED" if failed else "OK", f"({len(rep.errors)} errors, {len(rep.warnings)} warnings)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
