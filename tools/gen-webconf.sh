#!/bin/sh
# Write a web server config for GoLive from conf/<server>/golive.conf.in and print its path.
# Usage: tools/gen-webconf.sh nginx|lighttpd|apache RUNDIR PORT
#   RUNDIR  absolute runtime folder holding pushd.sock and api.sock
#   PORT    public HTTP port (on 127.0.0.1 unless GOLIVE_BIND says otherwise)
# nginx: nginx -p RUNDIR/nginx -c CONF -e stderr    (the config has daemon off)
# lighttpd: lighttpd -D -f CONF
# apache: apache2 -f CONF -DFOREGROUND
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
server=$1 rundir=$2 port=$3
bind=${GOLIVE_BIND:-127.0.0.1}
case "${LOG_LEVEL:-info}" in debug) lvl=info ;; *) lvl=warn ;; esac
# As root, worker processes run unprivileged and must reach the sockets in RUNDIR. nginx keeps
# root workers when nobody cannot (a checkout under /root, say) rather than fail with 502s;
# Apache refuses to run as root at all, so there RUNDIR must be reachable (tests use /tmp).
user_line="" group_line=""
if [ "$(id -u)" = 0 ]; then
    case "$server" in
    nginx) runuser -u nobody -- test -x "$rundir" 2>/dev/null || user_line="user root;" ;;
    apache) user_line="User nobody" group_line="Group nogroup" ;;
    esac
fi
case "$server" in
nginx | lighttpd | apache) ;;
*) echo "gen-webconf: unknown server '$server' (nginx, lighttpd, apache)" >&2; exit 2 ;;
esac
mkdir -p "$rundir/$server" "$rundir/www"
out="$rundir/$server/$server.conf"
sed -e "s|@USER@|$user_line|" -e "s|@GROUP@|$group_line|" -e "s|@RUNDIR@|$rundir|g" -e "s|@LISTEN@|$bind:$port|g" \
    -e "s|@BIND@|$bind|g" -e "s|@PORT@|$port|g" \
    -e "s|@PUSHD_UPSTREAM@|unix:$rundir/pushd.sock:|g" -e "s|@NGINX_LOG_LEVEL@|$lvl|g" \
    "$top/conf/$server/golive.conf.in" >"$out"
echo "$out"
