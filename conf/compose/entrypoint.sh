#!/bin/bash
# One machine of docker-compose.yml (docs/cluster.md, "Several machines"), by its role:
#   nats NAME   a nats-server routed to $NATS_ROUTES
#   web         the database's host: golive-pushd with the file, golive-api, nginx balancing
#               /api/ws over $GOLIVE_PUSHD_NODES (host:port ...)
#   node        golive-pushd without the database (GOLIVE_STORE=nats), on port 8101
# Every process logs to the container's output; the container stops when one of them does.
set -eu
role=${1:?usage: golive-entrypoint nats NAME | web | node}

case "$role" in
nats)
    exec nats-server -p 4222 -n "${2:?nats needs a name}" --cluster_name golive \
        --cluster nats://0.0.0.0:6222 --routes "${NATS_ROUTES:?}"
    ;;
node)
    export GOLIVE_STORE=nats GOLIVE_PUSHD_LISTEN=0.0.0.0:8101 GOLIVE_RUNDIR=/run/golive \
        REALTIME_CONFIG_PATH=/etc/golive/realtime.yaml
    install -d -o golive -g golive /run/golive
    exec runuser -u golive -- golive-pushd
    ;;
web)
    export GOLIVE_RUNDIR=/run/golive GOLIVE_DB=/var/lib/golive/golive.db \
        GOLIVE_IPC_URL=ipc:///run/golive/pushd.ipc GOLIVE_PUSHD_LISTEN=0.0.0.0:8101 \
        REALTIME_CONFIG_PATH=/etc/golive/realtime.yaml
    install -d -o golive -g golive /run/golive
    chown -R golive:golive /var/lib/golive
    # The package's snippet sends /api/ws to the local node's socket: here, to every node.
    {
        echo "upstream golive_pushd {"
        echo "    zone golive_pushd 64k; # least_conn over every worker's connections"
        echo "    least_conn;"
        for n in ${GOLIVE_PUSHD_NODES:?}; do
            echo "    server $n max_fails=1 fail_timeout=5s;"
        done
        echo "}"
    } > /etc/nginx/conf.d/golive-upstream.conf
    sed -i 's|proxy_pass http://unix:/run/golive/pushd.sock:;|proxy_pass http://golive_pushd;|' \
        /etc/nginx/snippets/golive.conf
    cat > /etc/nginx/sites-enabled/default <<'CONF'
server {
    listen 8080;
    include snippets/golive.conf;
}
CONF
    runuser -u golive -- golive-pushd &
    runuser -u golive -- golive-api --threads 16 &
    nginx -g 'daemon off;' &
    wait -n
    echo "golive-entrypoint: a process of the web role stopped; stopping" >&2
    exit 1
    ;;
*)
    echo "golive-entrypoint: unknown role $role" >&2
    exit 2
    ;;
esac
