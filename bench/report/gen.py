#!/usr/bin/env python3
"""Dimensions and SQL for the Shadow AI report benchmark data (bench/report.sh calls this).

  gen.py plan N NOW              chunk lines: start end n offset  (calendar-day chunks of the
                                 30 days ending at NOW, rows spread by a diurnal/weekday weight;
                                 newest first)
  gen.py events START END N OFFSET [--app ID] [--uid U] [--country CC] [--dlp-rate R]
                                 the INSERT for one chunk (events.sql with placeholders filled)
  gen.py dlp START END           the dlp_findings INSERT for one chunk (dlp.sql)
  gen.py status-changes NOW      INSERT ... VALUES for app_status_changes
  gen.py anomalies               the anomaly subjects: spike_app new_country_app new_country heavy_uid heavy_user
  gen.py apps                    the apps used, by popularity rank: rank id name category status
"""
import glob
import hashlib
import math
import os
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NAPPS = 300
NUSERS = 5000
NDEVICES = 2000
DAYS = 30
DLP_RATE = 0.028  # of POST/PUT requests not blocked by policy: ~1.5 % of all requests

# Popular first (Zipf rank 0 takes ~25 % of the traffic); the rest of the catalog follows in a
# stable hashed order, so the long tail mixes categories.
TOP = ["chatgpt", "microsoft-365-copilot", "github-copilot", "gemini", "claude", "microsoft-copilot",
       "perplexity", "grammarly", "deepl", "cursor", "openai-api", "notebooklm", "canva-ai", "deepseek",
       "otter", "anthropic-api", "claude-code-web", "midjourney", "zoom-ai-companion", "fireflies",
       "poe", "quillbot", "gamma", "elevenlabs", "azure-openai", "meta-ai", "grok", "mistral-api",
       "le-chat", "character-ai", "hugging-face", "replit", "v0", "lovable", "runway", "heygen",
       "qwen", "kimi", "windsurf", "jasper"]
# Anomalies the report should find (by catalog id).
SPIKE_APP = "gamma"                 # requests x10 in the last day vs its trailing 7 days
NEW_COUNTRY_APP = "claude"          # used from a country never seen for it, in the last day
NEW_COUNTRY = ("RU", "Moscow")      # outside COUNTRIES below: no other traffic comes from it
HEAVY_UID = 4321                    # a quiet user who makes ~50x the median requests in the last day

# (country, city, weight): most traffic from US, DE, GB, IN
COUNTRIES = [("US", "New York", 40), ("DE", "Berlin", 18), ("GB", "London", 13), ("IN", "Bangalore", 9),
             ("FR", "Paris", 3), ("NL", "Amsterdam", 2), ("CA", "Toronto", 2), ("ES", "Madrid", 1.5),
             ("IT", "Milan", 1.2), ("PL", "Warsaw", 1.2), ("SE", "Stockholm", 1), ("CH", "Zurich", 1),
             ("IE", "Dublin", 1), ("BR", "Sao Paulo", 0.8), ("MX", "Mexico City", 0.6), ("JP", "Tokyo", 0.8),
             ("SG", "Singapore", 0.8), ("AU", "Sydney", 0.6), ("IL", "Tel Aviv", 0.5), ("AE", "Dubai", 0.4),
             ("PT", "Lisbon", 0.4), ("CZ", "Prague", 0.4), ("RO", "Bucharest", 0.3), ("ZA", "Cape Town", 0.2),
             ("KR", "Seoul", 0.3)]
FIRST = """james mary john patricia robert jennifer michael linda william elizabeth david barbara richard
susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony
margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol
kevin amanda brian dorothy george melissa timothy deborah ronald stephanie edward rebecca jason sharon
jeffrey laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen
brenda larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine gregory
christine alexander debra frank rachel patrick carolyn raymond janet jack maria dennis olivia
walter julia""".split()[:100]
LAST = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez
lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker
hall rivera campbell mitchell carter roberts muller schmidt""".split()[:50]
GROUPS = [f"{d}-{r}" for d, r in [
    ("eng", "platform"), ("eng", "backend"), ("eng", "frontend"), ("eng", "mobile"), ("eng", "data"),
    ("eng", "ml"), ("eng", "sre"), ("eng", "security"), ("eng", "qa"), ("eng", "devex"),
    ("product", "core"), ("product", "growth"), ("design", "ux"), ("design", "brand"),
    ("sales", "na"), ("sales", "emea"), ("sales", "apac"), ("sales", "ops"), ("presales", "se"),
    ("marketing", "content"), ("marketing", "demand"), ("marketing", "events"), ("support", "tier1"),
    ("support", "tier2"), ("success", "enterprise"), ("finance", "fpa"), ("finance", "accounting"),
    ("legal", "commercial"), ("legal", "privacy"), ("hr", "people"), ("hr", "recruiting"),
    ("it", "helpdesk"), ("it", "corp"), ("ops", "bizops"), ("ops", "procurement"), ("exec", "staff"),
    ("research", "applied"), ("research", "labs"), ("partners", "alliances"), ("contractors", "ext")]]
DETECTORS = [("email_address", 30), ("source_code", 20), ("credit_card", 8), ("iban", 6), ("jwt", 8),
             ("us_ssn", 4), ("aws_access_key_id", 6), ("github_token", 6), ("openai_api_key", 7), ("private_key", 5)]
FILE_BASES = ["q3-forecast", "customer-list", "contract-draft", "board-deck", "roadmap", "invoice",
              "meeting-notes", "resume", "architecture", "incident-report", "pricing", "screenshot",
              "payroll", "design-spec", "dataset", "logs", "source", "survey-results", "nda", "budget"]
FILE_EXTS = ["pdf", "docx", "xlsx", "csv", "png", "pptx", "txt", "py", "json", "zip"]
POST_PATHS = ["/backend-api/conversation", "/api/chat", "/v1/chat/completions", "/v1/messages",
              "/api/generate", "/api/v1/completions", "/graphql", "/api/search"]
GET_PATHS = ["/", "/api/conversations", "/api/models", "/c/", "/api/me", "/static/app.js",
             "/api/history", "/settings"]
MODELS = ["gpt-4o", "gpt-4.1", "gpt-5", "o3", "claude-sonnet-4-5", "claude-opus-4-1", "gemini-2.5-pro",
          "gemini-2.5-flash", "llama-3.3-70b", "mistral-large", "deepseek-v3", "qwen3-max"]


assert len(set(FIRST)) == 100 and len(set(LAST)) == 50, "5000 distinct user names"


def h(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def apps():
    cat = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "policies/catalog/*.toml"))):
        with open(f, "rb") as fh:
            for a in tomllib.load(fh).get("app", []):
                host = (a.get("hosts") or a.get("api_hosts") or [a["id"] + ".example"])[0].lstrip("*.")
                cat[a["id"]] = (a["id"], a["name"], a["category"], host)
    order = [i for i in TOP if i in cat]
    order += sorted((i for i in cat if i not in order), key=h)
    out = []
    for rank, i in enumerate(order[:NAPPS]):
        x = h("status:" + i) % 100
        if i in ("deepseek", "character-ai", "poe"):
            status = "unapproved"
        elif rank < 12:
            status = "approved"
        elif i == SPIKE_APP:
            status = "in_review"
        else:
            status = "approved" if x < 20 else "unapproved" if x < 42 else "in_review" if x < 52 else "unknown"
        out.append(cat[i] + (status,))
    return out


def arr(xs):
    def lit(x):
        if isinstance(x, str):
            return "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return str(x)
    return "[" + ",".join(lit(x) for x in xs) + "]"


def lut(weights, size):
    """Indices 1..len(weights), each repeated in proportion to its weight (at least once)."""
    tot = sum(weights)
    out = []
    for i, w in enumerate(weights):
        out += [i + 1] * max(1, round(size * w / tot))
    return out


def hour_weight(t):
    """Relative traffic in the UTC hour starting at epoch t: EU and US working days."""
    hr = (t // 3600) % 24
    wd = (t // 86400 + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    eu = math.exp(-((hr - 11.5) / 3.2) ** 2)
    us = math.exp(-((hr - 17.5) / 3.5) ** 2)
    ind = math.exp(-((hr - 7.5) / 3.0) ** 2) * 0.3
    w = 0.06 + eu * 0.9 + us * 1.0 + ind
    return w * (0.28 if wd >= 5 else 1.0)


def hours(start, end):
    """[(hour_start, seconds, weight)] of the UTC hours overlapping [start, end)."""
    out, t = [], start - start % 3600
    while t < end:
        a, b = max(t, start), min(t + 3600, end)
        out.append((a, b - a, hour_weight(t) * (b - a) / 3600))
        t += 3600
    return out


def plan(n, now):
    start = now - DAYS * 86400
    segs, t = [], start
    while t < now:
        e = min(now, t - t % 86400 + 86400)
        segs.append((t, e, sum(w for _, _, w in hours(t, e))))
        t = e
    tot = sum(w for *_, w in segs)
    off, acc, lines = 0, 0.0, []
    for s, e, w in segs:
        acc += w
        upto = round(n * acc / tot)
        lines.append((s, e, upto - off, off))
        off = upto
    return lines


def events_sql(start, end, n, offset, app=None, uid=None, country=None, dlp_rate=DLP_RATE):
    A = apps()
    hs = hours(start, end)
    tot = sum(w for *_, w in hs)
    hour_lut = lut([w for *_, w in hs], 2000)
    countries = COUNTRIES + [NEW_COUNTRY + (0,)]
    det_lut = [DETECTORS[i - 1][0] for i in lut([w for _, w in DETECTORS], 100)]
    country_lut = lut([w for *_, w in COUNTRIES], 1000)
    ids = [a[0] for a in A]
    force_app = ids.index(app) + 1 if app else 0
    force_ci = [c[0] for c in countries].index(country) + 1 if country else 0
    sub = {
        "N": n, "OFFSET": offset, "START": start, "END": end,
        "HOUR_LUT": arr(hour_lut), "HOUR_LUT_LEN": len(hour_lut),
        "HOUR_START": arr([a for a, _, _ in hs]), "HOUR_LEN": arr([b for _, b, _ in hs]),
        "NAPPS": len(A), "NAPPS_M1": len(A) - 1,
        "APP_IDS": arr(ids), "APP_NAMES": arr([a[1] for a in A]), "APP_CATS": arr([a[2] for a in A]),
        "APP_HOSTS": arr([a[3] for a in A]), "APP_STATUS": arr([a[4] for a in A]),
        "FORCE_APP": force_app, "FORCE_UID": -1 if uid is None else uid, "FORCE_COUNTRY": force_ci,
        "NUSERS": NUSERS, "NUSERS_M1": NUSERS - 1, "NDEVICES": NDEVICES,
        "FIRST": arr(FIRST), "LAST": arr(LAST), "GROUPS": arr(GROUPS), "NGROUPS": len(GROUPS),
        "COUNTRY_LUT": arr(country_lut), "COUNTRY_LUT_LEN": len(country_lut), "NCOUNTRIES": len(COUNTRIES),
        "COUNTRIES": arr([c[0] for c in countries]), "CITIES": arr([c[1] for c in countries]),
        "FILE_BASES": arr(FILE_BASES), "NFILE_BASES": len(FILE_BASES),
        "FILE_EXTS": arr(FILE_EXTS), "NFILE_EXTS": len(FILE_EXTS),
        "POST_PATHS": arr(POST_PATHS), "NPOST_PATHS": len(POST_PATHS),
        "GET_PATHS": arr(GET_PATHS), "NGET_PATHS": len(GET_PATHS),
        "MODELS": arr(MODELS), "NMODELS": len(MODELS),
        "DLP_RATE": dlp_rate, "DET_LUT": arr(det_lut), "DET_LUT_LEN": len(det_lut),
    }
    return fill(os.path.join(HERE, "events.sql"), sub)


def fill(path, sub):
    with open(path) as fh:
        s = fh.read()
    for k, v in sub.items():
        s = s.replace("@" + k + "@", str(v))
    left = sorted(set(__import__("re").findall(r"@[A-Z_0-9]+@", s)))
    if left:
        sys.exit(f"unfilled placeholders in {path}: {left}")
    return s


def status_changes(now):
    rows = []
    admins = ["alice.admin@acme.example", "sec-team@acme.example", "ciso@acme.example"]
    for rank, (i, name, _c, _h, status) in enumerate(apps()):
        if status == "unknown":
            continue
        x = h("chg:" + i)
        t = now - (x % (80 * 86400)) - 86400
        steps = [("unknown", "in_review")] if status == "in_review" else \
                [("unknown", "in_review"), ("in_review", status)]
        if i == SPIKE_APP:  # moved back to review two days ago: the spike follows a decision
            steps = [("unknown", "in_review"), ("in_review", "approved"), ("approved", "in_review")]
            t = now - 20 * 86400
        for k, (old, new) in enumerate(steps):
            reason = {"in_review": f"{name}: security review requested",
                      "approved": f"{name}: DPA signed, SSO enforced, training opt-out",
                      "unapproved": f"{name}: trains on inputs / no enterprise terms"}[new]
            if i == SPIKE_APP and k == 2:
                reason = f"{name}: re-review after vendor changed data retention"
                ts = now - 2 * 86400
            else:
                ts = t + k * (2 + x % 10) * 86400
            ts = min(ts, now - 3600)
            rows.append(f"(toDateTime({ts}, 'UTC'), '{i}', '{old}', '{new}', '{admins[(x + k) % 3]}', '{reason.replace(chr(39), ' ')}')")
    return "INSERT INTO app_status_changes VALUES " + ",\n".join(rows)


def main(a):
    cmd = a[0]
    if cmd == "plan":  # newest day first: a run cut short keeps the recent days (and the anomalies)
        for line in reversed(plan(int(a[1]), int(a[2]))):
            print(*line)
    elif cmd == "events":
        opts = dict(zip(a[5::2], a[6::2]))
        print(events_sql(int(a[1]), int(a[2]), int(a[3]), int(a[4]), app=opts.get("--app"),
                         uid=int(opts["--uid"]) if "--uid" in opts else None, country=opts.get("--country"),
                         dlp_rate=float(opts.get("--dlp-rate", DLP_RATE))))
    elif cmd == "dlp":
        print(fill(os.path.join(HERE, "dlp.sql"), {"START": a[1], "END": a[2]}))
    elif cmd == "status-changes":
        print(status_changes(int(a[1])))
    elif cmd == "anomalies":
        u = HEAVY_UID
        print(SPIKE_APP, NEW_COUNTRY_APP, NEW_COUNTRY[0], u, f"{FIRST[u % 100]}.{LAST[u // 100]}@acme.example")
    elif cmd == "apps":
        for r, x in enumerate(apps()):
            print(r, *x[:3], x[4], sep="\t")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:] or ["help"])
