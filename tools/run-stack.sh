#!/bin/bash
# `make run`: start golive-pushd, golive-api, nginx on $PORT and the media server (nginx-rtmp:
# RTMP on $RTMP_PORT, HLS on $HLS_PORT) in the foreground; Ctrl-C stops all.
# One stack per GOLIVE_RUNDIR (flock on RUNDIR/run.lock, which names the holder's pid); "GoLive is up."
# only once nginx, golive-api and pushd answer real requests; a part that fails stops the rest
# and names itself (exit 1). On exit the sockets and pid files are removed.
# Usage: tools/run-stack.sh BUILD_DIR   (e.g. build/release)
# Environment: PORT (8080), JWT_SECRET, REALTIME_CONFIG_PATH (conf/realtime.yaml), LOG_LEVEL,
# GOLIVE_RUNDIR (var/: database, sockets, nginx files), GOLIVE_BIND (127.0.0.1),
# RTMP_PORT (1935), HLS_PORT (8888), GOLIVE_MEDIA (nginx-rtmp, or none: bring your own, e.g.
# MediaMTX), GOLIVE_WEBHOOK_SECRET (default: made once and kept in RUNDIR/webhook.secret),
# GOLIVE_HLS_URL (http://HOST:HLS_PORT/live), GOLIVE_RTMP_URL (rtmp://HOST:RTMP_PORT/live).
# `make run-cluster` (docs/cluster.md): GOLIVE_CLUSTER_NODES=3 starts that many nats-servers in
# one NATS cluster (client ports GOLIVE_NATS_PORTS, "4222 4223 4224"; route ports
# GOLIVE_NATS_ROUTE_PORTS, "6222 6223 6224") and as many pushd nodes on one database, nginx
# balancing /api/ws over them; node k's metrics on GOLIVE_PUSHD_METRICS_LISTEN's port + k - 1.
# GOLIVE_CLUSTER_REMOTE=N (default 0) runs the last N nodes as on machines without the
# database (GOLIVE_STORE=nats): they store and read through the others.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${1:-build/release}
export PORT=${PORT:-8080}
export GOLIVE_RUNDIR=${GOLIVE_RUNDIR:-$top/var}
export REALTIME_CONFIG_PATH=${REALTIME_CONFIG_PATH:-$top/conf/realtime.yaml}
export GOLIVE_BIND=${GOLIVE_BIND:-127.0.0.1}
mkdir -p "$GOLIVE_RUNDIR"
GOLIVE_RUNDIR=$(cd "$GOLIVE_RUNDIR" && pwd)
export GOLIVE_RUNDIR

# One stack per runtime folder: the lock is held (fd 9) for this script's lifetime and names its
# pid. A second `make run` stops here, before it touches a socket or file of the first.
lock=$GOLIVE_RUNDIR/run.lock
exec 9<>"$lock"
if ! flock -n 9; then
    holder=$(cat "$lock" 2>/dev/null || true)
    echo "run: another GoLive stack (pid ${holder:-unknown}) is running in $GOLIVE_RUNDIR" \
        "(lock $lock); stop it first, or set GOLIVE_RUNDIR" >&2
    exit 1
fi
echo $$ >"$lock"
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

pushd_listen=${GOLIVE_PUSHD_LISTEN:-unix:$GOLIVE_RUNDIR/pushd.sock}
ipc_url=${GOLIVE_IPC_URL:-ipc://$GOLIVE_RUNDIR/pushd.ipc}
case "$GOLIVE_BIND" in 0.0.0.0 | "*") probe_host=127.0.0.1 ;; *) probe_host=$GOLIVE_BIND ;; esac
# Files a stopped stack must not leave behind (we hold the lock: they are ours).
stale=("$GOLIVE_RUNDIR/api.sock" "$GOLIVE_RUNDIR/nginx/nginx.pid" "$GOLIVE_RUNDIR/nginx-rtmp/nginx.pid")
case "$pushd_listen" in unix:*) stale+=("${pushd_listen#unix:}") ;; esac
case "$ipc_url" in ipc://*) stale+=("${ipc_url#ipc://}") ;; esac

pids=()
names=()
spare=() # a cluster's NATS servers and pushd nodes but the first: one may die, the rest go on
stop() {
    trap - INT TERM EXIT HUP
    for p in "${pids[@]}" "${spare[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "${stale[@]}"
    : >"$lock"
    echo "run: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# An operator's `kill -HUP` of this script reaches both binaries: each re-reads the YAML.
pushd_pid="" api_pid="" node_pids=()
reload() {
    echo "run: SIGHUP: golive-pushd and golive-api re-read $REALTIME_CONFIG_PATH" >&2
    for p in "${node_pids[@]}" $api_pid; do kill -HUP "$p" 2>/dev/null || true; done
}
trap reload HUP

fail() {
    echo "run: $*; stopping" >&2
    exit 1
}
# start NAME CMD...: run CMD in the background (without our lock fd), remember its pid.
start() {
    local name=$1
    shift
    "$@" 9>&- &
    pids+=($!)
    names+=("$name")
}
alive() { kill -0 "$1" 2>/dev/null; }
# start_spare NAME CMD...: as start, but its exit does not stop the stack (a cluster survives it).
start_spare() {
    shift
    "$@" 9>&- &
    spare+=($!)
}

# The status line of one request to HOST:PORT over bash's /dev/tcp (no client needed).
status_line() {
    local line=""
    exec 8<>"/dev/tcp/$probe_host/$PORT" 2>/dev/null || return 1
    printf '%b' "$1" >&8
    IFS= read -r -t 2 line <&8 || true
    exec 8>&-
    printf '%s' "${line%$'\r'}"
}
# wait_until WHAT PID CHECK...: up to 15 s for CHECK to succeed while PID lives.
wait_until() {
    local what=$1 pid=$2
    shift 2
    for _ in $(seq 1 300); do
        "$@" && return 0
        alive "$pid" || fail "$what exited during start-up (see its messages above)"
        sleep 0.05
    done
    fail "$what did not come up within 15 s"
}
unix_up() { [ -S "$1" ]; }
tcp_up() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
pid_file_is() { [ -s "$1" ] && [ "$(cat "$1")" = "$2" ]; }
rest_ok() {
    case "$(status_line "GET /api/realtime/channels HTTP/1.1\r\nHost: $probe_host\r\nConnection: close\r\n\r\n")" in
    "HTTP/1.1 200"*) return 0 ;;
    esac
    return 1
}
ws_ok() {
    case "$(status_line "GET /api/ws HTTP/1.1\r\nHost: $probe_host\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: Z29saXZlLXJ1bi1wcm9iZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")" in
    "HTTP/1.1 101"*) return 0 ;;
    esac
    return 1
}

rm -f "${stale[@]}"
nodes=${GOLIVE_CLUSTER_NODES:-1}
case "$nodes" in [1-9]) ;; *) fail "GOLIVE_CLUSTER_NODES must be 1 to 9" ;; esac
remote=${GOLIVE_CLUSTER_REMOTE:-0}
case "$remote" in [0-8]) ;; *) fail "GOLIVE_CLUSTER_REMOTE must be 0 to 8" ;; esac
[ "$remote" -lt "$nodes" ] || [ "$remote" = 0 ] ||
    fail "GOLIVE_CLUSTER_REMOTE must leave node 1 with the database (fewer than $nodes)"
metrics_at=${GOLIVE_PUSHD_METRICS_LISTEN:-127.0.0.1:9470}
if [ "$nodes" -gt 1 ]; then
    # The NATS cluster: every server routes to the others; each node names its own first.
    read -r -a nats_ports <<<"${GOLIVE_NATS_PORTS:-4222 4223 4224}"
    read -r -a route_ports <<<"${GOLIVE_NATS_ROUTE_PORTS:-6222 6223 6224}"
    [ "${#nats_ports[@]}" -ge "$nodes" ] && [ "${#route_ports[@]}" -ge "$nodes" ] ||
        fail "GOLIVE_NATS_PORTS and GOLIVE_NATS_ROUTE_PORTS need $nodes ports each"
    command -v nats-server >/dev/null || fail "nats-server is not installed (apt-get install nats-server)"
    routes=$(for k in $(seq 0 $((nodes - 1))); do printf 'nats://127.0.0.1:%s,' "${route_ports[$k]}"; done)
    for k in $(seq 0 $((nodes - 1))); do
        start_spare "nats-server $((k + 1))" nats-server -a 127.0.0.1 -p "${nats_ports[$k]}" \
            -n "nats$((k + 1))" --cluster_name golive \
            --cluster "nats://127.0.0.1:${route_ports[$k]}" --routes "${routes%,}"
        wait_until "nats-server $((k + 1))" "${spare[-1]}" tcp_up 127.0.0.1 "${nats_ports[$k]}"
    done
    upstreams="" api_ipc=""
    for k in $(seq 1 "$nodes"); do
        urls=$(for j in $(seq 0 $((nodes - 1))); do
            printf 'nats://127.0.0.1:%s,' "${nats_ports[$(((j + k - 1) % nodes))]}"
        done)
        sock=$GOLIVE_RUNDIR/pushd-$k.sock
        [ "$k" = 1 ] && sock=${pushd_listen#unix:}
        case "$pushd_listen" in unix:*) ;; *) fail "run-cluster needs GOLIVE_PUSHD_LISTEN=unix:..." ;; esac
        ipc=$ipc_url
        [ "$k" = 1 ] || ipc=ipc://$GOLIVE_RUNDIR/pushd-$k.ipc
        stale+=("$sock" "${ipc#ipc://}")
        rm -f "$sock" "${ipc#ipc://}"
        node_metrics=off
        [ "$metrics_at" = off ] || node_metrics=${metrics_at%:*}:$((${metrics_at##*:} + k - 1))
        # node 1 is golive-api's (its nng socket): the stack stops with it, not with the others
        launch=start
        [ "$k" = 1 ] || launch=start_spare
        store=sqlite
        [ "$k" -le $((nodes - remote)) ] || store=nats
        GOLIVE_NATS_URL=${urls%,} GOLIVE_NODE_NAME=n$k GOLIVE_PUSHD_LISTEN=unix:$sock \
            GOLIVE_IPC_URL=$ipc GOLIVE_PUSHD_METRICS_LISTEN=$node_metrics GOLIVE_STORE=$store \
            $launch "golive-pushd n$k" "$build/golive-pushd"
        [ "$k" = 1 ] && node_pids+=("${pids[-1]}") || node_pids+=("${spare[-1]}")
        wait_until "golive-pushd n$k" "${node_pids[-1]}" unix_up "$sock"
        upstreams="$upstreams unix:$sock"
        api_ipc="$api_ipc,$ipc"
    done
    # golive-api reaches every node: a node that dies leaves the others its requests
    export GOLIVE_IPC_URL=${api_ipc#,}
    pushd_pid=${node_pids[0]}
    export GOLIVE_PUSHD_NODES=${upstreams# }
else
    start golive-pushd "$build/golive-pushd"
    pushd_pid=${pids[-1]}
    node_pids=("$pushd_pid")
    case "$pushd_listen" in
    unix:*) wait_until golive-pushd "$pushd_pid" unix_up "${pushd_listen#unix:}" ;;
    *) wait_until golive-pushd "$pushd_pid" tcp_up "$(h=${pushd_listen%:*}; [ "$h" = 0.0.0.0 ] && h=127.0.0.1; echo "$h")" "${pushd_listen##*:}" ;;
    esac
fi

# golive-api as a FastCGI server on a unix socket nginx's fastcgi_pass points at.
start golive-api "$build/golive-api" --listen "$GOLIVE_RUNDIR/api.sock"
api_pid=${pids[-1]}
wait_until golive-api "$api_pid" unix_up "$GOLIVE_RUNDIR/api.sock"

# nginx writes its pid file once it has bound its listeners.
conf=$("$top/tools/gen-webconf.sh" nginx "$GOLIVE_RUNDIR" "$PORT")
start nginx nginx -p "$GOLIVE_RUNDIR/nginx" -c "$conf" -e stderr
nginx_pid=${pids[-1]}
wait_until "nginx (HTTP on $GOLIVE_BIND:$PORT)" "$nginx_pid" pid_file_is "$GOLIVE_RUNDIR/nginx/nginx.pid" "$nginx_pid"

case "$media" in
nginx-rtmp)
    # the media server has no WebSocket upstream: a cluster's node list is not for it
    conf=$(GOLIVE_PUSHD_NODES= "$top/tools/gen-webconf.sh" nginx-rtmp "$GOLIVE_RUNDIR" "$PORT")
    start nginx-rtmp nginx -p "$GOLIVE_RUNDIR/nginx-rtmp" -c "$conf" -e stderr
    wait_until "nginx-rtmp (RTMP on $GOLIVE_BIND:$RTMP_PORT, HLS on $HLS_PORT)" "${pids[-1]}" \
        pid_file_is "$GOLIVE_RUNDIR/nginx-rtmp/nginx.pid" "${pids[-1]}"
    ;;
none) ;;
*) fail "GOLIVE_MEDIA must be nginx-rtmp or none" ;;
esac

# Real requests through nginx: REST answered by golive-api, a WebSocket handshake by pushd.
wait_until "golive-api (GET /api/realtime/channels through nginx)" "$api_pid" rest_ok
wait_until "golive-pushd (WebSocket handshake on /api/ws through nginx)" "$pushd_pid" ws_ok

# Sign-in links for trying the web app: GoLive does not own users (a site's backend mints the
# JWTs); these are minted here with golive-token and the servers' JWT_SECRET, valid 12 hours.
web=http://$host:$PORT
mint() { "$build/golive-token" --ttl 12h "$@" || fail "golive-token could not mint a demo token"; }
viewer_token=$(mint --sub demo_viewer --username viewer --role user)
streamer_token=$(mint --sub demo_streamer --username demo --role streamer)
mod_token=$(mint --sub demo_mod --username mod --role moderator)

[ "$metrics_at" = off ] && metrics_url=off || metrics_url="http://$metrics_at/metrics   (golive-pushd; /healthz, /readyz)"
cluster_line=""
if [ "$nodes" -gt 1 ]; then
    cluster_line="  cluster    $nodes golive-pushd nodes n1..n$nodes over NATS on ports ${nats_ports[*]:0:$nodes}; nginx balances /api/ws; node k's metrics on port ${metrics_at##*:}+k-1"$'\n'
    first_remote=n$((nodes - remote + 1))
    [ "$remote" -le 1 ] || first_remote="$first_remote..n$nodes"
    [ "$remote" = 0 ] || cluster_line+="             $first_remote without the database (GOLIVE_STORE=nats): stored through the others"$'\n'
fi
cat <<MSG
run: GoLive is up.
  web app    $web/   (watch: $web/watch/<stream name>, go live: $web/stream, chat alone: $web/embed/chat/<channel>)
  sign in    (tokens valid 12 h; each link signs in one browser tab)
    viewer     $web/watch/demo?token=$viewer_token
    streamer   $web/stream?token=$streamer_token
    moderator  $web/embed/chat/chat:stream_demo?token=$mod_token
  WebSocket  ws://$probe_host:$PORT/api/ws
  REST       http://$probe_host:$PORT/api/realtime/channels   (described: $web/docs/api)
  streams    http://$probe_host:$PORT/api/streaming/streams
  RTMP       $GOLIVE_RTMP_URL   (stream key: POST /api/streaming/keys)
  HLS        $GOLIVE_HLS_URL/<stream name>/index.m3u8
  metrics    $metrics_url
$cluster_line  database   ${GOLIVE_DB:-$GOLIVE_RUNDIR/golive.db}   (sqlite3 it)
  config     $REALTIME_CONFIG_PATH
  a token    JWT_SECRET=\${JWT_SECRET:-change-me} $build/golive-token --sub user_123 --username alice
Press Ctrl-C to stop; kill -HUP $$ reloads the YAML in golive-pushd and golive-api.
MSG
# Whichever exits first takes the others down with it. A trapped signal (SIGHUP) also ends
# `wait -n`: go on waiting while every part is still running.
while :; do
    wait -n || true
    for i in "${!pids[@]}"; do
        alive "${pids[$i]}" || {
            echo "run: ${names[$i]} exited; shutting down" >&2
            exit 1
        }
    done
done
