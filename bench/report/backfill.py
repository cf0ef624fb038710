#!/usr/bin/env python3
"""Fill rollups that a migration added after the data was generated (bench/report.sh backfill).

A materialized view only sees inserts made after it exists, so a rollup created by a later
migration is empty on the bench data. For every materialized view of DB whose target table is
empty (or the targets named on the command line), run the view's SELECT over its source table
one day at a time and insert the result into the target.

  backfill.py URL DB [TARGET...]
"""
import re
import sys
import time
import urllib.parse
import urllib.request


def q(url, db, sql):
    req = urllib.request.Request(url + "?" + urllib.parse.urlencode({"database": db}), data=sql.encode())
    try:
        with urllib.request.urlopen(req, timeout=3600) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        sys.exit(f"ClickHouse: {e.read().decode()[:500]}\nquery: {sql[:300]}")


def main(url, db, targets):
    rows = q(url, db, f"SELECT name, create_table_query FROM system.tables WHERE database = '{db}' "
                      f"AND engine = 'MaterializedView' FORMAT TSVRaw")
    done = 0
    for line in rows.splitlines():
        name, create = line.split("\t", 1)
        m = re.match(r"CREATE MATERIALIZED VIEW (\S+) TO (\S+) \((.*?)\) AS (SELECT .*)$", create, re.S)
        if not m:
            print(f"{name}: not a TO-table view, skipped", file=sys.stderr)
            continue
        target, cols, select = m.group(2), m.group(3), m.group(4)
        tname = target.split(".")[-1]
        if targets and tname not in targets:
            continue
        src = re.search(r"\bFROM (\S+)", select).group(1)
        n = int(q(url, db, f"SELECT count() FROM {target}"))
        if n and not targets:
            continue
        if n:
            print(f"{tname}: not empty ({n} rows); backfilling anyway, as asked", file=sys.stderr)
        names = ", ".join(c.strip().split(" ")[0] for c in re.split(r",\s+(?=\w+ )", cols))
        days = q(url, db, f"SELECT DISTINCT toDate(ts) AS d FROM {src} ORDER BY d").split()
        t0 = time.time()
        for d in days:
            day_select = select.replace(f"FROM {src}", f"FROM (SELECT * FROM {src} WHERE toDate(ts) = '{d}')", 1)
            q(url, db, f"INSERT INTO {target} ({names}) {day_select}")
        print(f"{tname}: backfilled from {src}, {len(days)} days, {time.time() - t0:.0f} s, "
              f"{q(url, db, f'SELECT count() FROM {target}').strip()} rows", file=sys.stderr)
        done += 1
    if not done:
        print("nothing to backfill (every view's target has rows)", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
