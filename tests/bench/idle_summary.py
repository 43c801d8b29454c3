#!/usr/bin/python3
"""Medians per case of the RESULT lines run_idle_matrix.sh collected.
    /usr/bin/python3 tests/bench/idle_summary.py /tmp/idle-matrix.jsonl
"""
import collections
import json
import statistics
import sys

COLS = [
    ("runs", None),
    ("connected", "connected"),
    ("B/conn", "bytes_per_conn"),
    ("RSS after MiB", "rss_after"),
    ("setup/s", "setup_rate"),
    ("pushd CPU setup s", "pushd_cpu_setup_secs"),
    ("bcast all ms", "broadcast_all_ms_median"),
    ("idle CPU s", "pushd_cpu_hold_secs"),
    ("exit", "exit_code"),
    ("term s", "term_secs"),
    ("ok", "ok"),
]


def med(vals):
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(vals) if vals else None


def main():
    runs = collections.defaultdict(list)
    order = []
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line)
            tag = r.get("tag") or f"n={r['n']}{' auth' if r.get('auth') else ''}"
            if tag not in runs:
                order.append(tag)
            runs[tag].append(r)
    print("| case | " + " | ".join(c for c, _ in COLS) + " |")
    print("|---" * (len(COLS) + 1) + "|")
    for tag in order:
        rs = runs[tag]
        cells = []
        for name, key in COLS:
            if key is None:
                cells.append(str(len(rs)))
            elif key == "rss_after":
                m = med([r.get(key) for r in rs])
                cells.append(f"{m / 2**20:.1f}" if m else "-")
            elif key in ("exit_code", "ok"):
                cells.append(",".join(str(r.get(key)) for r in rs))
            else:
                m = med([r.get(key) for r in rs])
                cells.append("-" if m is None else (f"{m:.0f}" if abs(m) >= 100 else f"{m:g}"))
        print(f"| {tag} | " + " | ".join(cells) + " |")
    print()
    for tag in order:
        for r in runs[tag]:
            extra = {k: r[k] for k in ("connect_errors", "unexpected_close", "log_lines",
                                       "sanitizer_reports", "close_codes_seen_by_clients",
                                       "alive_after_hold", "died_early", "broadcast")
                     if r.get(k)}
            if "broadcast" in extra:
                extra["broadcast"] = [b.get("all_ms", b.get("error")) for b in extra["broadcast"]]
            if extra:
                print(f"- {tag}: {json.dumps(extra)}")


if __name__ == "__main__":
    main()
