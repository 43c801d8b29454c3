# GoLive's chat stack (golive-pushd, golive-api, nginx) in one container, for docker-compose.yml.
FROM debian:12
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libwebsockets-dev \
       libwebsockets-evlib-ev libnng-dev libfcgi-dev libcjson-dev libyaml-dev libjwt-dev \
       libev-dev libnats-dev libsqlite3-dev sqlite3 nginx \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/golive
COPY . .
RUN make all
ENV PORT=8080 GOLIVE_RUNDIR=/srv/golive/var
EXPOSE 8080
CMD ["tools/run-stack.sh", "build/release"]
