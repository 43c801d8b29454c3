#!/bin/sh
# Install the Debian packages GoLive builds, runs and tests with, only those missing.
# Used by `make run` and `make test`; safe to run again (prints nothing when all is there).
# `install-deps.sh bench` adds the peers and tools of `make bench`.
set -eu

PKGS="build-essential pkg-config libwebsockets-dev libnng-dev libfcgi-dev libcjson-dev libyaml-dev
libjwt-dev libev-dev libnats-dev nats-server libsqlite3-dev sqlite3 nginx lighttpd apache2 spawn-fcgi libcmocka-dev python3-pytest python3-websockets
python3-requests python3-jwt python3-yaml curl libnginx-mod-rtmp ffmpeg nodejs chromium chromium-driver
python3-selenium fonts-dejavu-core prometheus groff-base python3-jsonschema debhelper dpkg-dev
fakeroot lintian"
[ "${1:-}" = bench ] && PKGS="$PKGS libnginx-mod-nchan pushpin wrk"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: run as root: apt-get install$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
