#!/usr/bin/python3
"""Medians of bench.py's results as the markdown tables of docs/benchmarks.md.

    /usr/bin/python3 tests/bench/bench_report.py build/bench/results-*.jsonl

Every figure is the median over the runs of one (scenario, server, rate); the "n" column says
how many runs that was. Ratios compare GoLive with nchan measured in the same runs.
"""

import json
import statistics
import sys
from collections import defaultdict

SERVERS = ["golive", "golive-user", "golive-401-floor", "nchan", "pushpin", "floor"]


def load(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def med(rows, key):
    vals = [key(r) for r in rows]
    return statistics.median(vals) if vals else float("nan")


def group(rows, *fields):
    out = defaultdict(list)
    for r in rows:
        out[tuple(r.get(f) for f in fields)].append(r)
    return out


def order(keys):
    return sorted(keys, key=lambda k: (k[0], SERVERS.index(k[1]) if k[1] in SERVERS else 9,
                                       k[2] if len(k) > 2 else 0))


def fanout_table(rows):
    g = group([r for r in rows if "rate" in r], "scenario", "server", "rate")
    if not g:
        return
    print("| scenario | msg/s in | server | n | delivered/s | lost | p50 ms | p99 ms | "
          "p99.9 ms | server CPU µs/delivery |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in order(sorted(g, key=lambda k: (k[0], k[2]))):
        scen, server, rate = key
        rs = g[key]
        print(f"| {scen} | {rate:g} | {server} | {len(rs)} | "
              f"{med(rs, lambda r: r['delivered_per_s']):,.0f} | "
              f"{med(rs, lambda r: max(r['loss'], 0)):,.0f} | "
              f"{med(rs, lambda r: r['lat_us']['p50']) / 1000:,.1f} | "
              f"{med(rs, lambda r: r['lat_us']['p99']) / 1000:,.1f} | "
              f"{med(rs, lambda r: r['lat_us']['p999']) / 1000:,.1f} | "
              f"{med(rs, lambda r: r['cpu_us_per_msg']):.2f} |")


def max_no_loss(rows):
    """Per (scenario, server): the highest median delivered/s among rates where every run
    lost nothing."""
    g = group([r for r in rows if "rate" in r], "scenario", "server", "rate")
    best = {}
    for (scen, server, rate), rs in g.items():
        if all(r["loss"] <= 0 and r["pub_err"] == 0 for r in rs):
            v = med(rs, lambda r: r["delivered_per_s"])
            if v > best.get((scen, server), (0, 0))[0]:
                best[(scen, server)] = (v, rate)
    if not best:
        return
    print("\n| scenario | server | most delivered/s with no loss | at msg/s in |")
    print("|---|---|---|---|")
    for key in order(best):
        print(f"| {key[0]} | {key[1]} | {best[key][0]:,.0f} | {best[key][1]:g} |")


def idle_table(rows):
    g = group([r for r in rows if "idle_s" in r], "scenario", "server")
    if not g:
        return
    print("\n| scenario | server | n | connected | setup conn/s | RSS per connection | "
          "idle CPU s |")
    print("|---|---|---|---|---|---|---|")
    for key in order(g):
        rs = g[key]
        print(f"| {key[0]} | {key[1]} | {len(rs)} | {med(rs, lambda r: r['connected']):,.0f} | "
              f"{med(rs, lambda r: r['setup_per_s']):,.0f} | "
              f"{med(rs, lambda r: r['rss_per_conn']):,.0f} B | "
              f"{med(rs, lambda r: r['idle_cpu_s']):.2f} |")


def rest_table(rows):
    g = group([r for r in rows if r.get("scenario") == "rest-publish"], "scenario", "server")
    if not g:
        return
    print("\n| REST publish (wrk -t1 -c16) | n | req/s | p50 ms | p99 ms | server CPU µs/req "
          "| non-2xx + errors |")
    print("|---|---|---|---|---|---|---|")
    for key in order(g):
        rs = g[key]
        print(f"| {key[1]} | {len(rs)} | {med(rs, lambda r: r.get('req_per_s', 0)):,.0f} | "
              f"{med(rs, lambda r: r.get('p50_ms', 0)):.2f} | "
              f"{med(rs, lambda r: r.get('p99_ms', 0)):.2f} | "
              f"{med(rs, lambda r: r.get('cpu_us_per_req', 0)):.0f} | "
              f"{med(rs, lambda r: r['non2xx'] + r['errors']):,.0f} |")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = load(sys.argv[1:])
    fanout_table(rows)
    max_no_loss(rows)
    idle_table(rows)
    rest_table(rows)


if __name__ == "__main__":
    main()
