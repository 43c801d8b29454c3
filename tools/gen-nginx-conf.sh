#!/bin/sh
# Write RUNDIR/nginx/nginx.conf from conf/nginx/golive.conf.in.
# Usage: tools/gen-nginx-conf.sh RUNDIR PORT [PUSHD_LISTEN]
#   RUNDIR        absolute runtime folder (sockets, pid, temp files)
#   PORT          public HTTP port (listens on 127.0.0.1 unless GOLIVE_BIND is set, e.g. 0.0.0.0)
#   PUSHD_LISTEN  golive-pushd's address as given to it: unix:/path.sock or HOST:PORT
#                 (default unix:RUNDIR/pushd.sock)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rundir=$1
port=$2
pushd_listen=${3:-unix:$rundir/pushd.sock}
bind=${GOLIVE_BIND:-127.0.0.1}
case "$pushd_listen" in
unix:*) upstream="unix:${pushd_listen#unix:}:" ;;
*) upstream="$pushd_listen" ;;
esac
case "${LOG_LEVEL:-info}" in
debug) lvl=info ;; *) lvl=warn ;;
esac
# As root, nginx workers run as nobody and must reach the sockets in RUNDIR; when they cannot
# (a checkout under /root, say), keep them root rather than fail with 502s.
user_line=""
if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$rundir" 2>/dev/null; then
    user_line="user root;"
fi
mkdir -p "$rundir/nginx"
sed -e "s|@USER@|$user_line|" -e "s|@RUNDIR@|$rundir|g" -e "s|@LISTEN@|$bind:$port|g" \
    -e "s|@PUSHD_UPSTREAM@|$upstream|g" -e "s|@NGINX_LOG_LEVEL@|$lvl|g" \
    "$top/conf/nginx/golive.conf.in" >"$rundir/nginx/nginx.conf"
echo "$rundir/nginx/nginx.conf"
