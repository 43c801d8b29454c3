"""golive-pushd's operator endpoints (docs/operations.md) through the real stack: /metrics in
Prometheus' text format on its own listener, whose series move as clients connect, publish over
WebSocket and REST, and are refused; /healthz and /readyz; and Debian's real Prometheus server
scraping it, its series then queryable, and so are the queries of the Grafana dashboard in
conf/grafana/; the version (the VERSION file) in --version, the log's
first line, rpc stats and the metrics."""
import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time

import pytest
import requests
import websockets

from conftest import BUILD, REPO, close_all, free_port, json_body, run, unique_channel, wait_for

STACK_API = True

# name{label="value",...} number; a quoted value may hold any character but " and \ unescaped
SAMPLE = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+)$')


def scrape(stack, api=False):
    """pushd's /metrics (or golive-api's, through the web server) as {series: value}."""
    url = (f"http://127.0.0.1:{stack.port}/api/ops/metrics" if api else
           f"http://127.0.0.1:{stack.metrics_port}/metrics")
    r = requests.get(url, timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    series, typed = {}, {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or typed.get(family) == "histogram", f"{name} has no TYPE line"
        assert not name.endswith("_total") or typed[name] == "counter", name
        series[name + labels] = value
    return series


def test_metrics_move_with_connections_publishes_and_refusals(stack):
    ch = unique_channel()
    before = scrape(stack)
    for name in ("golive_pushd_start_time_seconds", 'golive_pushd_connections{auth="user"}',
                 'golive_pushd_closes_total{code="4008"}',
                 'golive_pushd_rate_limited_total{limit="publish"}',
                 'golive_pushd_chat_mode_refusals_total{mode="slow_mode"}',
                 'golive_pushd_ipc_requests_total{op="batch"}',
                 'golive_pushd_ipc_errors_total{op="other"}', "golive_pushd_ipc_relistens_total",
                 'golive_pushd_sqlite_errors_total{kind="busy"}',
                 "golive_pushd_sent_bytes_total"):
        assert name in before, (name, sorted(before))
    assert abs(before["golive_pushd_start_time_seconds"] - time.time()) < 3600

    async def body():
        alice = await stack.client(stack.token("u_met_a", username="alice"))
        guest = await stack.client()
        try:
            await alice.subscribe(ch)
            await guest.subscribe(ch)
            now = scrape(stack)
            assert now['golive_pushd_connections{auth="user"}'] >= 1, now
            assert now['golive_pushd_connections{auth="anonymous"}'] >= 1, now
            assert now["golive_pushd_subscriptions"] >= 2 and now["golive_pushd_channels"] >= 1
            await alice.publish(ch, {"content": "over websocket"})
            await guest.recv_until(lambda m: m.get("type") == "message")
            json_body(stack.rest("POST", ch, "publish", token=stack.token("u_met_a"),
                                 json={"data": {"content": "over rest"}}))
            await guest.recv_until(lambda m: m.get("type") == "message"
                                   and m["data"]["content"] == "over rest")
        finally:
            await close_all(alice, guest)
    run(body())
    after = scrape(stack)

    def grew(name, by=1):
        assert after[name] >= before[name] + by, (name, before[name], after[name])
    grew('golive_pushd_messages_published_total{path="websocket"}')
    grew('golive_pushd_messages_published_total{path="rest"}')
    grew("golive_pushd_deliveries_total", 4)  # two messages to two subscribers
    grew("golive_pushd_frames_sent_total", 4)
    grew("golive_pushd_sent_bytes_total", 40)
    grew('golive_pushd_ipc_requests_total{op="batch"}')  # golive-api's publish
    assert after["golive_pushd_sends_total"] <= after["golive_pushd_frames_sent_total"]
    # the history writer stored the WebSocket message in a batch, timed
    grew("golive_pushd_writer_batch_rows_count")
    grew("golive_pushd_writer_batch_rows_sum")
    grew("golive_pushd_writer_store_seconds_count")
    assert after['golive_pushd_writer_store_seconds_bucket{le="+Inf"}'] == \
        after["golive_pushd_writer_store_seconds_count"]
    assert after["golive_pushd_writer_failed_rows_total"] == 0
    for name in ("golive_pushd_rpc_calls_total", "golive_pushd_rpc_failures_total",
                 "golive_pushd_rpc_seconds_total"):
        assert name in after, name


def test_refused_handshakes_are_counted_by_reason(stack):
    origin = 'golive_pushd_connections_refused_total{reason="origin"}'
    path = 'golive_pushd_connections_refused_total{reason="path"}'
    before = scrape(stack)

    async def body():
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            await websockets.connect(stack.url(), origin="https://evil.example", open_timeout=5)
        assert refused.value.status_code == 403
        # the web server only forwards /api/ws: another path, straight to pushd's socket
        with pytest.raises(websockets.InvalidHandshake):
            await websockets.unix_connect(stack.sock_path, "ws://localhost/api/other",
                                          open_timeout=5)
    run(body())
    after = scrape(stack)
    assert after[origin] == before[origin] + 1
    assert after[path] == before[path] + 1


def test_sqlite_failures_are_counted_by_kind(stack):
    """A database another program holds locked past the 5 s busy_timeout (an operator's
    sqlite3 session left in a transaction): the REST and the WebSocket publish both fail
    `unavailable`, and both binaries count a "busy" failure."""
    ch = unique_channel()
    busy_p = 'golive_pushd_sqlite_errors_total{kind="busy"}'
    busy_a = 'golive_api_sqlite_errors_total{kind="busy"}'
    before_p, before_a = scrape(stack), scrape(stack, api=True)

    async def body():
        alice = await stack.client(stack.token("u_met_lock", username="alice"))
        try:
            await alice.subscribe(ch)
            lock = sqlite3.connect(stack.db_path, timeout=5, isolation_level=None)
            try:
                lock.execute("BEGIN EXCLUSIVE")
                await alice.send({"type": "publish", "channel": ch, "id": 7,
                                  "data": {"content": "while locked"}})
                r = await asyncio.to_thread(stack.rest, "POST", ch, "publish",
                                            token=stack.token("u_met_lock"),
                                            json={"data": {"content": "rest, while locked"}})
                assert r.status_code == 503, r.text
                assert r.json()["error"]["code"] == "unavailable", r.text
                reply = await alice.recv_until(lambda m: m.get("id") == 7, timeout=15)
                assert reply["error"]["code"] == "unavailable", reply
            finally:
                lock.execute("ROLLBACK")
                lock.close()
        finally:
            await close_all(alice)
    run(body())
    assert scrape(stack)[busy_p] >= before_p[busy_p] + 1
    assert scrape(stack, api=True)[busy_a] >= before_a[busy_a] + 1


def test_golive_api_counts_requests_batches_and_pushd_exchanges(stack):
    ch = unique_channel()
    route = 'route="POST /realtime/channels/{channel}/publish"'
    before = scrape(stack, api=True)
    tok = stack.token("u_met_rest", username="r")
    for i in range(3):
        json_body(stack.rest("POST", ch, "publish", token=tok, json={"data": {"n": i}}))
    stack.http("GET", "/api/realtime/nope")
    after = scrape(stack, api=True)

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)
    assert delta(f'golive_api_requests_total{{{route},status="200"}}') == 3, after
    assert delta('golive_api_requests_total{route="unmatched",status="404"}') == 1
    assert delta(f'golive_api_request_duration_seconds_count{{{route}}}') == 3
    assert delta(f'golive_api_request_duration_seconds_bucket{{{route},le="+Inf"}}') == 3
    assert after[f'golive_api_request_duration_seconds_sum{{{route}}}'] > 0
    assert delta("golive_api_publish_batch_size_sum") == 3
    assert 1 <= delta("golive_api_publish_batch_size_count") <= 3
    assert delta('golive_api_pushd_requests_total{op="batch",result="ok"}') >= 1
    assert after["golive_api_not_pushed_total"] == 0
    assert after["golive_api_build_info{version=\"%s\"}" % open(
        os.path.join(REPO, "VERSION")).read().strip()] == 1


def test_health_and_readiness(stack):
    base = f"http://127.0.0.1:{stack.metrics_port}"
    r = requests.get(base + "/healthz", timeout=5)
    assert (r.status_code, r.text) == (200, "ok\n")
    r = requests.get(base + "/readyz", timeout=5)
    assert (r.status_code, r.text) == (200, "ready\n")
    r = requests.get(base + "/other", timeout=5)
    assert r.status_code == 404 and "/metrics" in r.text
    # not on the public port: nginx does not serve it
    assert stack.http("GET", "/metrics").status_code == 404
    # golive-api's, through the web server: this host only
    assert stack.http("GET", "/api/ops/healthz").text == "ok\n"
    r = stack.http("GET", "/api/ops/readyz")
    assert (r.status_code, r.text) == (200, "ready\n"), r.text


@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Debian's prometheus is not installed (tools/install-deps.sh adds it)")
def test_a_real_prometheus_scrapes_pushd(stack):
    port = free_port()
    d = tempfile.mkdtemp(prefix="golive-prom-")
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n"
                "scrape_configs:\n  - job_name: golive-pushd\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{stack.metrics_port}']\n"
                "  - job_name: golive-api\n    metrics_path: /api/ops/metrics\n"
                f"    static_configs:\n      - targets: ['127.0.0.1:{stack.port}']\n")
    log = open(os.path.join(d, "prometheus.log"), "wb")
    prom = subprocess.Popen(["prometheus", f"--config.file={d}/prometheus.yml",
                             f"--storage.tsdb.path={d}/data", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        def query(q):
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": q},
                                 timeout=2)
                return r.json()["data"]["result"] if r.status_code == 200 else []
            except (requests.RequestException, ValueError):
                return []

        for job in ("golive-pushd", "golive-api"):
            wait_for(lambda: [s for s in query(f'up{{job="{job}"}}') if s["value"][1] == "1"],
                     timeout=30, what=f"Prometheus to scrape {job}")
        assert query("golive_api_requests_total"), "golive-api's series"
        assert query("histogram_quantile(0.99, sum by (le) "
                     "(rate(golive_api_request_duration_seconds_bucket[1m])))") is not None
        conns = query("golive_pushd_connections")
        assert {s["metric"]["auth"] for s in conns} == {"user", "anonymous"}, conns
        for q in ("golive_pushd_messages_published_total", "golive_pushd_closes_total",
                  "golive_pushd_rate_limited_total", "golive_pushd_chat_mode_refusals_total"):
            assert query(q), q
        # each Grafana dashboard's queries are valid PromQL over series its binary exports
        for job, api, least in (("golive-pushd", False, 14), ("golive-api", True, 9)):
            exported = {re.sub(r"_(bucket|sum|count)$", "", k.split("{")[0])
                        for k in scrape(stack, api=api)} | {"up"}
            with open(os.path.join(REPO, "conf", "grafana", job + ".json")) as f:
                dash = json.load(f)
            exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
            assert len(dash["panels"]) >= least, (job, len(dash["panels"]))
            for e in exprs:
                names = {re.sub(r"_(bucket|sum|count)$", "", n)
                         for n in re.findall(r"\b(golive_[a-z_]+|up)\b", e)}
                assert names and names <= exported, (job, e, names - exported)
                q = e.replace("$job", job).replace("$__rate_interval", "1m")
                r = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": q},
                                 timeout=5).json()
                assert r["status"] == "success", (q, r)
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prom.kill()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def test_the_version_is_everywhere(stack):
    with open(os.path.join(REPO, "VERSION")) as f:
        version = f.read().strip()
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version), version
    for name in ("golive-pushd", "golive-api", "golive-token"):
        out = subprocess.run([os.path.join(BUILD, name), "--version"], capture_output=True,
                             text=True, timeout=10)
        assert (out.returncode, out.stdout) == (0, f"{name} {version}\n"), (name, out)
        helped = subprocess.run([os.path.join(BUILD, name), "--help"], capture_output=True,
                                text=True, timeout=10)
        assert helped.returncode == 0 and "--version" in helped.stdout, (name, helped)
    first = open(stack.pushd_log).readline()
    assert f"golive-pushd {version} starting" in first, first
    assert f"golive-api {version} listening" in stack.api_log()
    assert scrape(stack)[f'golive_pushd_build_info{{version="{version}"}}'] == 1

    async def body():
        c = await stack.client()
        try:
            assert (await c.stats())["version"] == version
        finally:
            await c.close()
    run(body())
