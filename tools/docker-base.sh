#!/bin/bash
# What conf/compose needs on a Debian 12 machine that reaches Debian's mirror but no image
# registry (as the test machines here): Debian's Docker engine and docker-compose, dockerd
# started when it is not running, and a debian:12 image made with debootstrap when there is
# none. A machine that can pull from Docker Hub needs none of this. Idempotent; progress on
# stderr. Exit 1 when the engine cannot run here (test_compose.py then says so and skips).
set -euo pipefail
say() { echo "docker-base: $*" >&2; }

need=()
for c in dockerd:docker.io docker-compose:docker-compose debootstrap:debootstrap; do
    command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd"
    (dockerd >/var/log/golive-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { say "dockerd did not start: /var/log/golive-dockerd.log"; exit 1; }
fi
if ! docker image inspect debian:12 >/dev/null 2>&1; then
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    say "making debian:12 with debootstrap (a minute or two)"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
    rm -f "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | docker import - debian:12 >/dev/null
fi
say "ready: $(docker version --format '{{.Server.Version}}'), debian:12 present"
