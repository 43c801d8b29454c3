#!/bin/bash
# `make run`: start golive-pushd, golive-api and nginx on $PORT in the foreground; Ctrl-C stops all.
# Usage: tools/run-stack.sh BUILD_DIR   (e.g. build/release)
# Environment: PORT (8080), JWT_SECRET, REALTIME_CONFIG_PATH (conf/realtime.yaml), LOG_LEVEL,
# GOLIVE_RUNDIR (var/: database, sockets, nginx files), GOLIVE_BIND (127.0.0.1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${1:-build/release}
export PORT=${PORT:-8080}
export GOLIVE_RUNDIR=${GOLIVE_RUNDIR:-$top/var}
export REALTIME_CONFIG_PATH=${REALTIME_CONFIG_PATH:-$top/conf/realtime.yaml}
mkdir -p "$GOLIVE_RUNDIR"
GOLIVE_RUNDIR=$(cd "$GOLIVE_RUNDIR" && pwd)
export GOLIVE_RUNDIR
chmod 755 "$GOLIVE_RUNDIR"

"$top/tools/init-db.sh" "${GOLIVE_DB:-$GOLIVE_RUNDIR/golive.db}"

pids=()
stop() {
    trap - INT TERM EXIT
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "run: stopped"
}
trap stop INT TERM EXIT

"$build/golive-pushd" &
pids+=($!)
for _ in $(seq 1 100); do
    [ -S "$GOLIVE_RUNDIR/pushd.sock" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "run: golive-pushd failed to start" >&2; exit 1; }
    sleep 0.05
done

# golive-api as a FastCGI server on a unix socket nginx's fastcgi_pass points at.
"$build/golive-api" --listen "$GOLIVE_RUNDIR/api.sock" &
pids+=($!)

conf=$("$top/tools/gen-webconf.sh" nginx "$GOLIVE_RUNDIR" "$PORT")
nginx -p "$GOLIVE_RUNDIR/nginx" -c "$conf" -e stderr &
pids+=($!)

cat <<MSG
run: GoLive is up.
  WebSocket  ws://127.0.0.1:$PORT/api/ws
  REST       http://127.0.0.1:$PORT/api/realtime/channels
  database   ${GOLIVE_DB:-$GOLIVE_RUNDIR/golive.db}   (sqlite3 it)
  config     $REALTIME_CONFIG_PATH
  a token    JWT_SECRET=\${JWT_SECRET:-change-me} $build/golive-token --sub user_123 --username alice
Press Ctrl-C to stop.
MSG
# Whichever exits first takes the others down with it.
wait -n
echo "run: shutting down (Ctrl-C, or a component exited: see above)" >&2
