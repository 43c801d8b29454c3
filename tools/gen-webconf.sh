#!/bin/sh
# Write a server config for GoLive from its template and print its path.
# Usage: tools/gen-webconf.sh nginx|lighttpd|apache|nginx-rtmp RUNDIR PORT
#   RUNDIR  absolute runtime folder holding api.sock (and pushd.sock)
# GOLIVE_PUSHD_LISTEN (unix:RUNDIR/pushd.sock): where /api/ws is proxied to, unix:/path or
#   host:port, the same value golive-pushd listens on (0.0.0.0:PORT is reached on 127.0.0.1).
#   PORT    public HTTP port of GoLive (on 127.0.0.1 unless GOLIVE_BIND says otherwise)
# GOLIVE_PUSHD_NODES (nginx only): several pushd nodes of a cluster (docs/cluster.md), blank-separated
#   unix:/path or host:port; /api/ws is balanced over them (an upstream block) instead.
# GOLIVE_WEBROOT (the checkout's web/): the web app served at / (as root, a copy in RUNDIR/www
#   when user nobody, which Apache's and nginx's workers run as, cannot read it)
# nginx: nginx -p RUNDIR/nginx -c CONF -e stderr    (the config has daemon off)
# lighttpd: lighttpd -D -f CONF
# apache: apache2 -f CONF -DFOREGROUND
# nginx-rtmp (media/nginx-rtmp/): nginx -p RUNDIR/nginx-rtmp -c CONF -e stderr, with
#   RTMP_PORT (1935), HLS_PORT (8888) and GOLIVE_WEBHOOK_SECRET (required) from the environment;
#   it calls golive-api at http://127.0.0.1:PORT.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
server=$1 rundir=$2 port=$3
bind=${GOLIVE_BIND:-127.0.0.1}
case "${LOG_LEVEL:-info}" in debug) lvl=info ;; *) lvl=warn ;; esac
case "$server" in
nginx | lighttpd | apache) template=$top/conf/$server/golive.conf.in ;;
nginx-rtmp) template=$top/media/nginx-rtmp/golive-media.conf.in ;;
*) echo "gen-webconf: unknown server '$server' (nginx, lighttpd, apache, nginx-rtmp)" >&2; exit 2 ;;
esac
# Where pushd listens (GOLIVE_PUSHD_LISTEN, as pushd reads it): unix:/path or host:port. A relative
# path is taken from the current folder, as pushd started from here would.
pushd_listen=${GOLIVE_PUSHD_LISTEN:-unix:$rundir/pushd.sock}
case "$pushd_listen" in
unix:/*) pushd_sock=${pushd_listen#unix:} ;;
unix:*) pushd_sock=$PWD/${pushd_listen#unix:} ;;
*:*)
    pushd_sock="" pushd_host=${pushd_listen%:*} pushd_port=${pushd_listen##*:}
    case "$pushd_host" in "" | 0.0.0.0 | "*") pushd_host=127.0.0.1 ;; esac
    case "$pushd_port" in "" | *[!0-9]*)
        echo "gen-webconf: GOLIVE_PUSHD_LISTEN must be unix:/path or host:port" >&2
        exit 2
        ;;
    esac
    ;;
*) echo "gen-webconf: GOLIVE_PUSHD_LISTEN must be unix:/path or host:port" >&2; exit 2 ;;
esac
if [ -n "$pushd_sock" ]; then
    nginx_up="unix:$pushd_sock:"
    lighttpd_up="\"socket\" => \"$pushd_sock\""
    apache_up="unix:$pushd_sock|ws://localhost/api/ws"
else
    nginx_up="$pushd_host:$pushd_port"
    lighttpd_up="\"host\" => \"$pushd_host\", \"port\" => $pushd_port"
    apache_up="ws://$pushd_host:$pushd_port/api/ws"
fi
# A cluster's nodes: an upstream block, least connections (a node that restarts gets the new
# clients), and a node that refuses is skipped for 5 s.
upstream_block=""
if [ -n "${GOLIVE_PUSHD_NODES:-}" ]; then
    [ "$server" = nginx ] || { echo "gen-webconf: GOLIVE_PUSHD_NODES is for nginx" >&2; exit 2; }
    # zone: the connection counts least_conn goes by are the workers' together, not each one's
    upstream_block="    upstream golive_pushd {\\n        zone golive_pushd 64k;\\n        least_conn;"
    for n in $GOLIVE_PUSHD_NODES; do
        case "$n" in
        unix:/* | *:*) upstream_block="$upstream_block\\n        server $n max_fails=1 fail_timeout=5s;" ;;
        *) echo "gen-webconf: GOLIVE_PUSHD_NODES: $n is not unix:/path or host:port" >&2; exit 2 ;;
        esac
    done
    upstream_block="$upstream_block\\n    }"
    nginx_up=golive_pushd
fi
secret=""
case "$bind" in 0.0.0.0 | 127.*) relay_host=127.0.0.1 ;; *) relay_host=$bind ;; esac
if [ "$server" = nginx-rtmp ]; then
    secret=${GOLIVE_WEBHOOK_SECRET:-}
    case "$secret" in
    "" | *[!A-Za-z0-9_-]*)
        echo "gen-webconf: GOLIVE_WEBHOOK_SECRET must be set, of A-Z a-z 0-9 _ - only" >&2
        exit 2
        ;;
    esac
    mkdir -p "$rundir/media/hls" "$rundir/media/dash"
fi
# As root, worker processes run unprivileged and must reach the sockets in RUNDIR. nginx keeps
# root workers when nobody cannot (a checkout under /root, say) rather than fail with 502s;
# Apache refuses to run as root at all, so there RUNDIR must be reachable (tests use /tmp).
user_line="" group_line=""
if [ "$(id -u)" = 0 ]; then
    case "$server" in
    nginx | nginx-rtmp)
        if runuser -u nobody -- test -x "$rundir" 2>/dev/null; then
            [ "$server" = nginx-rtmp ] && chown -R nobody:nogroup "$rundir/media"
        else
            user_line="user root;"
        fi
        ;;
    apache) user_line="User nobody" group_line="Group nogroup" ;;
    esac
fi
mkdir -p "$rundir/$server" "$rundir/www"
webroot=${GOLIVE_WEBROOT:-$top/web}
if [ "$(id -u)" = 0 ] && [ "$server" != nginx-rtmp ] &&
    ! runuser -u nobody -- test -r "$webroot/index.html" 2>/dev/null; then
    rm -rf "$rundir/www" && cp -R "$webroot" "$rundir/www" && chmod -R a+rX "$rundir/www"
    webroot=$rundir/www
fi
out="$rundir/$server/$server.conf"
umask 077 # the nginx-rtmp config holds the hook secret
sed -e "s|@USER@|$user_line|" -e "s|@GROUP@|$group_line|" -e "s|@RUNDIR@|$rundir|g" -e "s|@WEBROOT@|$webroot|g" -e "s|@LISTEN@|$bind:$port|g" \
    -e "s|@BIND@|$bind|g" -e "s|@PORT@|$port|g" \
    -e "s|@PUSHD_UPSTREAM@|$nginx_up|g" -e "s|^@PUSHD_UPSTREAM_BLOCK@\$|$upstream_block|" \
    -e "s|@PUSHD_LIGHTTPD@|$lighttpd_up|g" -e "s#@PUSHD_APACHE@#$apache_up#g" -e "s|@NGINX_LOG_LEVEL@|$lvl|g" \
    -e "s|@RTMP_PORT@|${RTMP_PORT:-1935}|g" -e "s|@HLS_PORT@|${HLS_PORT:-8888}|g" \
    -e "s|@API_URL@|http://127.0.0.1:$port|g" -e "s|@SECRET@|$secret|g" -e "s|@RELAY_HOST@|$relay_host|g" \
    "$template" >"$out"
echo "$out"
