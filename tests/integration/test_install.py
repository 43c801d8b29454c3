"""`make install` and `make uninstall` (README "Installing"): into a DESTDIR, the binaries run
and say their version, the man pages render, the units, schema, web app, example configs and
docs are where the units and docs say; uninstall removes them and keeps /etc/golive; a second
install keeps an edited /etc/golive/realtime.yaml."""
import os
import subprocess

from conftest import BUILD, REPO

FLAVOUR = os.path.basename(BUILD.rstrip("/"))


def make(target, destdir):
    args = ["make", "--no-print-directory", "-C", REPO, target, f"DESTDIR={destdir}"]
    if FLAVOUR == "asan":
        args.append("SANITIZE=1")
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def test_install_then_uninstall_into_a_destdir(tmp_path):
    d = str(tmp_path / "root")
    make("install", d)
    usr = os.path.join(d, "usr/local")
    with open(os.path.join(REPO, "VERSION")) as f:
        version = f.read().strip()
    for name in ("golive-pushd", "golive-api", "golive-token"):
        out = subprocess.run([os.path.join(usr, "bin", name), "--version"], capture_output=True,
                             text=True, timeout=10)
        assert out.stdout == f"{name} {version}\n", out
    for rel in ("share/golive/schema.sql", "share/golive/web/index.html",
                "share/golive/web/golive.js", "share/golive/web/vendor/hls.js/hls.min.js",
                "share/golive/conf/realtime.yaml", "share/golive/conf/nginx/golive.conf.in",
                "share/golive/conf/grafana/golive-pushd.json",
                "share/golive/conf/grafana/golive-api.json",
                "lib/systemd/system/golive-pushd.service", "lib/systemd/system/golive-api.socket",
                "share/doc/golive/docs/api.md", "share/doc/golive/docs/operations.md",
                "share/doc/golive/docs/openapi.yaml", "share/golive/web/openapi.json"):
        assert os.path.isfile(os.path.join(usr, rel)), rel
    # the units' Documentation= and ExecStart= point into this layout
    unit = open(os.path.join(usr, "lib/systemd/system/golive-api.service")).read()
    assert "ExecStart=/usr/local/bin/golive-api" in unit
    assert "file:///usr/local/share/doc/golive/docs/api.md" in unit
    etc = os.path.join(d, "etc/golive/realtime.yaml")
    assert open(etc).read() == open(os.path.join(REPO, "conf/realtime.yaml")).read()
    # man pages: installed where man finds them, and render without groff warnings
    for page, sec in (("golive-pushd", 8), ("golive-api", 8), ("golive-token", 1),
                      ("golive-realtime.yaml", 5)):
        path = os.path.join(usr, f"share/man/man{sec}/{page}.{sec}")
        out = subprocess.run(["groff", "-man", "-ww", "-Tascii", "-P-cbou", path],
                             capture_output=True,
                             text=True, timeout=30, env=dict(os.environ, LC_ALL="C.UTF-8"))
        assert out.returncode == 0 and out.stderr == "", (page, out.stderr)
        assert page.upper() in out.stdout, page
    pushd_page = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", os.path.join(
        usr, "share/man/man8/golive-pushd.8")], capture_output=True, text=True, timeout=30).stdout
    assert "GOLIVE_PUSHD_METRICS_LISTEN" in pushd_page, pushd_page
    # an edited config survives a second install
    with open(etc, "a") as f:
        f.write("# edited by the operator\n")
    make("install", d)
    assert open(etc).read().endswith("# edited by the operator\n")
    make("uninstall", d)
    assert not os.path.exists(os.path.join(usr, "bin/golive-pushd"))
    assert not os.path.exists(os.path.join(usr, "share/golive"))
    assert not os.path.exists(os.path.join(usr, "share/man/man8/golive-pushd.8"))
    assert not os.path.exists(os.path.join(usr, "lib/systemd/system/golive-pushd.service"))
    assert os.path.isfile(etc)


def test_units_name_the_prefix_they_are_installed_under(tmp_path):
    """Another PREFIX (the Debian package's is /usr): the installed units start the binaries
    there and point at its docs; the units in conf/systemd/ keep /usr/local."""
    d = str(tmp_path / "root")
    args = ["make", "--no-print-directory", "-C", REPO, "install", f"DESTDIR={d}",
            "PREFIX=/opt/golive", "SYSTEMDUNITDIR=/lib/systemd/system"]
    if FLAVOUR == "asan":
        args.append("SANITIZE=1")
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    for name in ("golive-pushd.service", "golive-api.service", "golive-api.socket"):
        text = open(os.path.join(d, "lib/systemd/system", name)).read()
        assert "/usr/local" not in text, name
    api = open(os.path.join(d, "lib/systemd/system/golive-api.service")).read()
    assert "ExecStart=/opt/golive/bin/golive-api " in api
    assert "Documentation=file:///opt/golive/share/doc/golive/docs/api.md" in api
    assert "ExecStart=/usr/local/bin/golive-api " in open(
        os.path.join(REPO, "conf/systemd/golive-api.service")).read()
