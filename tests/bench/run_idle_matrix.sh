#!/bin/sh
# Runs every case of RESULTS-idle.md REPEAT times and appends each run's RESULT line (with its
# case name) to OUT; tests/bench/idle_summary.py OUT prints the medians.
#   tests/bench/run_idle_matrix.sh [OUT.jsonl]
# Env: REPEAT (2), BIN (build/release/golive-pushd), ASAN_BIN (build/asan/golive-pushd),
#      CASES (space-separated case names; default all).
# Every case is bounded by idle_conns.py itself (180 s to connect, every later step timed) and
# by timeout(1) here; the whole matrix takes about 20 minutes on 2 cores with REPEAT=2.
set -u
cd "$(dirname "$0")/../.." || exit 2
OUT=${1:-/tmp/idle-matrix.jsonl}
REPEAT=${REPEAT:-2}
BIN=${BIN:-build/release/golive-pushd}
ASAN_BIN=${ASAN_BIN:-build/asan/golive-pushd}
PY=/usr/bin/python3
ALL="anon-1000 anon-10000 anon-19500 auth-1000 auth-10000 auth-19500 anon-19500-hold65 \
anon-20100-overlimit anon-19500-term-open asan-anon-5000 asan-auth-5000"
CASES=${CASES:-$ALL}

args_of() {
    case $1 in
    anon-1000) echo "1000 --broadcast 5 --binary $BIN" ;;
    anon-10000) echo "10000 --broadcast 5 --binary $BIN" ;;
    anon-19500) echo "19500 --broadcast 5 --binary $BIN" ;;
    auth-1000) echo "1000 --auth --broadcast 5 --binary $BIN" ;;
    auth-10000) echo "10000 --auth --broadcast 5 --binary $BIN" ;;
    auth-19500) echo "19500 --auth --broadcast 5 --binary $BIN" ;;
    anon-19500-hold65) echo "19500 --hold 65 --broadcast 5 --binary $BIN" ;;
    anon-20100-overlimit) echo "20100 --hold 20 --binary $BIN" ;;
    anon-19500-term-open) echo "19500 --shutdown-open --binary $BIN" ;;
    asan-anon-5000) echo "5000 --broadcast 3 --binary $ASAN_BIN" ;;
    asan-auth-5000) echo "5000 --auth --broadcast 3 --binary $ASAN_BIN" ;;
    *) echo "unknown case $1" >&2; return 1 ;;
    esac
}

for r in $(seq 1 "$REPEAT"); do
    for c in $CASES; do
        a=$(args_of "$c") || exit 2
        echo "== run $r: $c: idle_conns.py $a" >&2
        # shellcheck disable=SC2086 # word splitting of $a is wanted
        line=$(timeout 420 $PY tests/bench/idle_conns.py $a --tag "$c" 2>&1 | tee /dev/stderr |
            sed -n 's/^RESULT //p')
        [ -n "$line" ] && echo "$line" >>"$OUT"
        sleep 2
    done
done
