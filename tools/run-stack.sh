#!/bin/bash
# `make run`: start golive-pushd, golive-api, nginx on $PORT and the media server (nginx-rtmp:
# RTMP on $RTMP_PORT, HLS on $HLS_PORT) in the foreground; Ctrl-C stops all.
# Usage: tools/run-stack.sh BUILD_DIR   (e.g. build/release)
# Environment: PORT (8080), JWT_SECRET, REALTIME_CONFIG_PATH (conf/realtime.yaml), LOG_LEVEL,
# GOLIVE_RUNDIR (var/: database, sockets, nginx files), GOLIVE_BIND (127.0.0.1),
# RTMP_PORT (1935), HLS_PORT (8888), GOLIVE_MEDIA (nginx-rtmp, or none: bring your own, e.g.
# MediaMTX), GOLIVE_WEBHOOK_SECRET (default: made once and kept in RUNDIR/webhook.secret),
# GOLIVE_HLS_URL (http://HOST:HLS_PORT/live), GOLIVE_RTMP_URL (rtmp://HOST:RTMP_PORT/live).
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

# The media server and golive-api share one secret for the auth hook and webhooks.
export RTMP_PORT=${RTMP_PORT:-1935} HLS_PORT=${HLS_PORT:-8888}
media=${GOLIVE_MEDIA:-nginx-rtmp}
if [ -z "${GOLIVE_WEBHOOK_SECRET:-}" ]; then
    secret_file=$GOLIVE_RUNDIR/webhook.secret
    if [ ! -s "$secret_file" ]; then
        (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$secret_file")
    fi
    GOLIVE_WEBHOOK_SECRET=$(cat "$secret_file")
fi
export GOLIVE_WEBHOOK_SECRET
host=${GOLIVE_PUBLIC_HOST:-localhost}
export GOLIVE_HLS_URL=${GOLIVE_HLS_URL:-http://$host:$HLS_PORT/live}
export GOLIVE_RTMP_URL=${GOLIVE_RTMP_URL:-rtmp://$host:$RTMP_PORT/live}

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

case "$media" in
nginx-rtmp)
    conf=$("$top/tools/gen-webconf.sh" nginx-rtmp "$GOLIVE_RUNDIR" "$PORT")
    nginx -p "$GOLIVE_RUNDIR/nginx-rtmp" -c "$conf" -e stderr &
    pids+=($!)
    ;;
none) ;;
*) echo "run: GOLIVE_MEDIA must be nginx-rtmp or none" >&2; exit 2 ;;
esac

cat <<MSG
run: GoLive is up.
  WebSocket  ws://127.0.0.1:$PORT/api/ws
  REST       http://127.0.0.1:$PORT/api/realtime/channels
  streams    http://127.0.0.1:$PORT/api/streaming/streams
  RTMP       $GOLIVE_RTMP_URL   (stream key: POST /api/streaming/keys)
  HLS        $GOLIVE_HLS_URL/<stream name>/index.m3u8
  database   ${GOLIVE_DB:-$GOLIVE_RUNDIR/golive.db}   (sqlite3 it)
  config     $REALTIME_CONFIG_PATH
  a token    JWT_SECRET=\${JWT_SECRET:-change-me} $build/golive-token --sub user_123 --username alice
Press Ctrl-C to stop.
MSG
# Whichever exits first takes the others down with it.
wait -n
echo "run: shutting down (Ctrl-C, or a component exited: see above)" >&2
