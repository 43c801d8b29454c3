"""The Debian package (README "Installing from the Debian package"), installed for real on this
machine: `make deb` builds it and lintian finds no error; `dpkg -i` makes the golive user,
/etc/golive with its settings readable by group golive, /var/lib/golive with the database, the
units enabled (they pass `systemd-analyze verify`) but not started, man pages and binaries of
this version. The packaged binaries, run as their units run them (user golive, the units'
Environment= and EnvironmentFile=, pushd's Type=notify, golive-api on a socket handed over as
systemd's socket activation does), behind nginx with the packaged snippet, carry a REST publish
to a WebSocket client and answer health and metrics. `dpkg --purge` takes it all away.

No systemd runs here, so the test stands in for it; what it cannot do (the units' sandboxing,
ProtectSystem= and friends) `systemd-analyze verify` checks only for syntax."""
import grp
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (BUILD, REPO, Client, close_all, free_port, is_message, json_body, run,
                      stop_process, unique_channel, wait_for)

FLAVOUR = os.path.basename(BUILD.rstrip("/"))
UNIT_DIR = "/lib/systemd/system"
UNITS = ("golive-pushd.service", "golive-api.socket", "golive-api.service")
ENV_FILE = "/etc/golive/golive.env"
CONFIG = "/etc/golive/realtime.yaml"
STATE = "/var/lib/golive"
# The units' RuntimeDirectory= and the packaged nginx snippet's sockets. Only the package uses
# it (test stacks and `make run` keep theirs in temporary folders), and the test refuses to run
# when a golive package is installed already, so no other stack is there.
RUNDIR = "/run/golive"

with open(os.path.join(REPO, "VERSION")) as f:
    VERSION = f.read().strip()


def _installed():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "golive"], capture_output=True,
                         text=True)
    return "install ok installed" in out.stdout


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _skip_reason():
    if FLAVOUR == "asan":
        return ("the Debian package builds its own release binaries: under GOLIVE_BUILD="
                "build/asan this test would test nothing the release run does not")
    if os.geteuid() != 0:
        return "installs a .deb with dpkg: needs root"
    if shutil.which("dpkg-buildpackage") is None or shutil.which("lintian") is None:
        return "dpkg-buildpackage and lintian are missing (tools/install-deps.sh installs them)"
    if _installed() or _user_exists("golive"):
        return ("a golive package or user is on this machine already: this test installs and "
                "purges its own, and would take theirs away")
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def purge():
    return subprocess.run(["dpkg", "--purge", "golive"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


@pytest.fixture(scope="module")
def deb():
    """make deb's output and the .deb's path, installed with dpkg -i; purged afterwards whatever
    happened."""
    out = subprocess.run(["make", "--no-print-directory", "-C", REPO, "deb"],
                         capture_output=True, text=True, timeout=900)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-4000:]
    m = re.search(r"^deb: (\S+\.deb)$", out.stdout, re.M)
    assert m, text[-2000:]
    path = m.group(1)
    try:
        inst = subprocess.run(["dpkg", "-i", path], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert inst.returncode == 0, inst.stdout + inst.stderr
        yield {"path": path, "make_output": text}
    finally:
        shutil.rmtree(RUNDIR, ignore_errors=True)
        if _installed() or os.path.exists("/etc/golive") or _user_exists("golive"):
            p = purge()
            assert p.returncode == 0 and not _installed(), p.stdout + p.stderr


def unit(name):
    """The installed unit's settings: {key: [values]} over all its sections."""
    keys = {}
    with open(os.path.join(UNIT_DIR, name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")):
                k, _, v = line.partition("=")
                keys.setdefault(k, []).append(v)
    return keys


def env_file(path):
    """KEY=VALUE lines of an EnvironmentFile= (comments and blank lines skipped)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                env[k.strip()] = v.strip()
    return env


def unit_env(name):
    """The environment systemd gives the unit's process: a bare PATH and LANG, Environment=,
    then EnvironmentFile=."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG": "C.UTF-8"}
    keys = unit(name)
    for v in keys.get("Environment", []):
        k, _, val = v.partition("=")
        env[k] = val
    for v in keys.get("EnvironmentFile", []):
        path = v.lstrip("-")
        if os.path.exists(path):
            env.update(env_file(path))
    return env


def mode(path):
    st = os.stat(path)
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


def test_lintian_finds_no_errors(deb):
    # make deb ran lintian on the .changes (and failed, as lintian does, on an error)
    lintian = [ln for ln in deb["make_output"].splitlines() if re.match(r"^[EWIPNXO]: ", ln)]
    assert any("lintian" in ln for ln in deb["make_output"].splitlines()), deb["make_output"]
    errors = [ln for ln in lintian if ln.startswith("E: ")]
    assert not errors, "\n".join(lintian)


def test_the_package_depends_on_what_the_binaries_load_at_run_time(deb):
    """shlibs sees the libraries the binaries link; lws's libev loop is a plugin it loads by
    name, which a clean Debian lacks (found by conf/compose's image): "unable to load evlib
    plugin evlib_ev", and pushd does not start."""
    depends = subprocess.run(["dpkg-deb", "-f", deb["path"], "Depends"], capture_output=True,
                             text=True, check=True).stdout
    for pkg in ("libwebsockets-evlib-ev", "libnats3.4", "libnng1", "libsqlite3-0", "adduser"):
        assert re.search(rf"\b{re.escape(pkg)}\b", depends), (pkg, depends)


def test_install_makes_the_user_folders_settings_and_database(deb):
    user = pwd.getpwnam("golive")
    assert user.pw_uid < 1000 and user.pw_dir == STATE, user  # a system user, home its state
    assert grp.getgrgid(user.pw_gid).gr_name == "golive"
    assert mode(STATE) == (0o750, "golive", "golive")
    # the services read these as group golive; nobody else may (JWT_SECRET, hook secrets)
    assert mode(ENV_FILE) == (0o640, "root", "golive")
    assert mode(CONFIG) == (0o640, "root", "golive")
    with open(CONFIG) as f, open(os.path.join(REPO, "conf/realtime.yaml")) as shipped:
        assert f.read() == shipped.read()
    with open(ENV_FILE) as f:
        assert "#JWT_SECRET=" in f.read()
    conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "golive"],
                               capture_output=True, text=True).stdout
    for path in (ENV_FILE, CONFIG, "/etc/nginx/snippets/golive.conf",
                 "/etc/nginx/conf.d/golive.conf"):
        assert path in conffiles, conffiles
    db = os.path.join(STATE, "golive.db")
    assert mode(db)[1:] == ("golive", "golive")
    version = subprocess.run(["sqlite3", db, "PRAGMA user_version;"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert int(version) > 0, version
    for name in ("golive-pushd", "golive-api", "golive-token"):
        out = subprocess.run([f"/usr/bin/{name}", "--version"], capture_output=True, text=True,
                             timeout=10)
        assert out.stdout == f"{name} {VERSION}\n", out
    for page, sec in (("golive-pushd", 8), ("golive-api", 8), ("golive-token", 1),
                      ("golive-realtime.yaml", 5)):
        out = subprocess.run(["man", "-w", page], capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == f"/usr/share/man/man{sec}/{page}.{sec}.gz", out
    page = subprocess.run(["man", "golive-pushd"], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="100"))
    assert "GOLIVE_PUSHD_METRICS_LISTEN" in page.stdout, page
    # the units' Documentation= is there, uncompressed
    for u in ("golive-pushd.service", "golive-api.service"):
        doc = unit(u)["Documentation"][0]
        assert doc.startswith("file:///usr/share/doc/golive/")
        assert os.path.isfile(doc[len("file://"):]), doc


def test_units_verify_and_are_enabled_but_not_started(deb):
    for name in UNITS:
        exec_start = unit(name).get("ExecStart")
        if exec_start:
            assert exec_start[0].startswith("/usr/bin/golive-"), exec_start
    # verify works without a running systemd: it loads the files, checks every directive and
    # that ExecStart= names an executable, User= aside (resolved only when a unit starts)
    out = subprocess.run(["systemd-analyze", "verify"]
                         + [os.path.join(UNIT_DIR, u) for u in UNITS],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stdout + out.stderr
    wants = {"golive-pushd.service": "multi-user.target.wants",
             "golive-api.socket": "sockets.target.wants"}
    for name, target in wants.items():
        link = os.path.join("/etc/systemd/system", target, name)
        assert os.path.realpath(link) == os.path.realpath(os.path.join(UNIT_DIR, name)), link
    # nothing was started: no process, no runtime folder
    assert not os.path.exists(RUNDIR)
    ps = subprocess.run(["ps", "-eo", "comm="], capture_output=True, text=True).stdout.split()
    assert not {"golive-pushd", "golive-api"} & set(ps), ps


class PackagedStack:
    """golive-pushd and golive-api from /usr/bin as their units start them, and nginx with the
    packaged snippet on a free port. pushd's metrics on a free port too (9470, the default, may be
    a `make run`'s)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="golive-deb-")
        os.chmod(self.tmp, 0o755)  # nginx's workers (www-data) keep their temp files here
        self.port = free_port()
        self.metrics_port = free_port()
        self.procs = {}

    def log(self, name):
        try:
            with open(os.path.join(self.tmp, f"{name}.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def logs(self):
        return "\n".join(f"--- {n}.log ---\n{self.log(n)[-3000:]}" for n in self.procs)

    def spawn(self, name, argv, env=None, stdin=subprocess.DEVNULL):
        log = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        try:
            # UMask= of the units; cwd / as systemd's default WorkingDirectory=
            self.procs[name] = subprocess.Popen(argv, env=env, cwd="/", stdin=stdin, stdout=log,
                                                stderr=subprocess.STDOUT, umask=0o027)
        finally:
            log.close()
        return self.procs[name]

    def as_unit_user(self, name):
        keys = unit(name)
        return ["setpriv", f"--reuid={keys['User'][0]}", f"--regid={keys['Group'][0]}",
                "--init-groups", "--"]

    def start_pushd(self):
        # RuntimeDirectory=golive, RuntimeDirectoryMode=0755, owned by User=
        keys = unit("golive-pushd.service")
        os.makedirs(RUNDIR, exist_ok=True)
        os.chmod(RUNDIR, int(keys["RuntimeDirectoryMode"][0], 8))
        shutil.chown(RUNDIR, "golive", "golive")
        # Type=notify: pushd says READY=1 on $NOTIFY_SOCKET
        notify_path = os.path.join(self.tmp, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        os.chmod(notify_path, 0o666)
        env = unit_env("golive-pushd.service")
        env.update({"NOTIFY_SOCKET": notify_path,
                    "GOLIVE_PUSHD_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}"})
        proc = self.spawn("pushd", self.as_unit_user("golive-pushd.service")
                          + keys["ExecStart"][0].split(), env)
        notify.settimeout(15)
        try:
            msg = notify.recv(4096).decode()
        except socket.timeout:
            msg = ""
        finally:
            notify.close()
        assert "READY=1" in msg.split("\n"), (msg, proc.poll(), self.logs())

    def start_api(self):
        """The socket as golive-api.socket has systemd make it (ListenStream=, SocketMode=,
        SocketUser=, SocketGroup=), handed over as fd 3 with LISTEN_FDS=1 and LISTEN_PID."""
        sk = unit("golive-api.socket")
        path = sk["ListenStream"][0]
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(128)
        os.chmod(path, int(sk["SocketMode"][0], 8))
        shutil.chown(path, sk["SocketUser"][0], sk["SocketGroup"][0])
        keys = unit("golive-api.service")
        env = unit_env("golive-api.service")
        env["LISTEN_FDS"] = "1"
        # sh moves the socket from stdin to fd 3 and names its own pid, which setpriv and
        # golive-api keep (both exec)
        wrapper = ['sh', '-c', 'exec 3<&0 0</dev/null; LISTEN_PID=$$ exec "$@"', 'sh']
        self.spawn("api", wrapper + self.as_unit_user("golive-api.service")
                   + keys["ExecStart"][0].split(), env, stdin=lsock.fileno())
        lsock.close()

    def start_nginx(self):
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""# Debian's nginx.conf in short: workers as www-data (golive-api.socket's group),
# conf.d at http level; a server block of this test's with the packaged snippet.
user www-data;
worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log stderr warn;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {self.tmp}/client_body;
    proxy_temp_path {self.tmp}/proxy;
    fastcgi_temp_path {self.tmp}/fastcgi;
    uwsgi_temp_path {self.tmp}/uwsgi;
    scgi_temp_path {self.tmp}/scgi;
    include /etc/nginx/mime.types;
    include /etc/nginx/conf.d/golive.conf;
    server {{
        listen 127.0.0.1:{self.port};
        include /etc/nginx/snippets/golive.conf;
    }}
}}
""")
        self.spawn("nginx", ["nginx", "-p", self.tmp, "-c", conf, "-e", "stderr"])

    def start(self):
        self.start_pushd()
        self.start_api()
        self.start_nginx()
        base = f"http://127.0.0.1:{self.port}"

        def ready():
            for name, p in self.procs.items():
                assert p.poll() is None, f"{name} exited {p.returncode}\n{self.logs()}"
            try:  # golive-api answers, and reaches SQLite and pushd
                return requests.get(f"{base}/api/ops/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                return False
        wait_for(ready, 20, what="golive-api's /api/ops/readyz through nginx")

    def stop(self):
        for name in ("nginx", "api", "pushd"):
            if name in self.procs:
                stop_process(self.procs[name], 15)  # pushd's TimeoutStopSec=
        shutil.rmtree(RUNDIR, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def packaged_stack(deb):
    # the operator's first step: a secret in golive.env
    with open(ENV_FILE) as f:
        text = f.read()
    with open(ENV_FILE, "w") as f:
        f.write(text.replace("#JWT_SECRET=", f"JWT_SECRET={secrets.token_hex(24)}", 1))
    st = PackagedStack()
    try:
        st.start()
        yield st
    finally:
        st.stop()


def test_packaged_stack_carries_a_message_and_answers_health_and_metrics(packaged_stack):
    st = packaged_stack
    base = f"http://127.0.0.1:{st.port}"
    # a token from the packaged golive-token, with the secret as golive.env's comment says
    out = subprocess.run(["sh", "-c", f'set -a; . {ENV_FILE}; exec golive-token --sub u_deb '
                          '--perm chat.publish'], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    ch = unique_channel()

    async def body():
        c = await Client.open(f"ws://127.0.0.1:{st.port}/api/ws", token=token)
        try:
            await c.subscribe(ch)
            r = requests.post(f"{base}/api/realtime/channels/{ch}/publish",
                              json={"data": {"text": "from the .deb"}},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
            reply = json_body(r, 200)
            assert reply.get("pushed") is True, reply
            m = await c.recv_until(is_message(ch, reply["id"]), what="the REST message")
            assert m["data"] == {"text": "from the .deb"}, m
        finally:
            await close_all(c)

    run(body())
    # stored as golive in the packaged database
    rows = subprocess.run(["sqlite3", os.path.join(STATE, "golive.db"),
                           f"SELECT count(*) FROM messages WHERE channel = '{ch}';"],
                          capture_output=True, text=True).stdout.strip()
    assert rows == "1", (rows, st.logs())
    # the web app from /usr/share/golive/web
    r = requests.get(f"{base}/", timeout=10)
    assert r.status_code == 200 and "<html" in r.text.lower(), r.text[:200]
    # pushd's health and metrics on its own listener
    mbase = f"http://127.0.0.1:{st.metrics_port}"
    for path in ("/healthz", "/readyz"):
        assert requests.get(mbase + path, timeout=10).status_code == 200, path
    metrics = requests.get(mbase + "/metrics", timeout=10).text
    assert f'golive_pushd_build_info{{version="{VERSION}"}} 1' in metrics, metrics[:500]
    # golive-api's, through the snippet, from this host
    r = requests.get(f"{base}/api/ops/metrics", timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert f'golive_api_build_info{{version="{VERSION}"}} 1' in r.text
    # both run as golive
    for name in ("pushd", "api"):
        uid = os.stat(f"/proc/{st.procs[name].pid}").st_uid
        assert pwd.getpwuid(uid).pw_name == "golive", name
    st.stop()
    for name in ("pushd", "api"):
        assert st.procs[name].returncode == 0, (name, st.procs[name].returncode, st.logs())


def test_purge_removes_the_package_its_files_and_user(deb):
    out = purge()
    assert out.returncode == 0, out.stdout + out.stderr
    assert not _installed()
    for path in ("/etc/golive", STATE, "/usr/bin/golive-pushd",
                 "/etc/nginx/snippets/golive.conf", "/etc/nginx/conf.d/golive.conf",
                 os.path.join(UNIT_DIR, "golive-pushd.service"),
                 "/etc/systemd/system/multi-user.target.wants/golive-pushd.service",
                 "/etc/systemd/system/sockets.target.wants/golive-api.socket"):
        assert not os.path.lexists(path), path
    assert not _user_exists("golive")
    with pytest.raises(KeyError):
        grp.getgrnam("golive")
