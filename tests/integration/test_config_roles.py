"""Role names follow one rule (shared/role.c) in tokens, YAML allowed_roles and REST settings:
1 to 31 bytes of [a-z0-9_-]. A YAML role no token can carry is a startup error naming file:line,
in golive-api and golive-pushd alike, rather than a rule that silently never matches."""

import os
import subprocess

import pytest

from conftest import API_BIN, PUSHD_BIN

TOO_LONG = "r" * 32

BAD_YAML = f"""namespaces:
  - name: chat
channels:
  - pattern: "chat:*"
    namespace: chat
    private: true
    allowed_roles:
      - vip
      - {TOO_LONG}
"""


@pytest.mark.parametrize("binary", [API_BIN, PUSHD_BIN], ids=["golive-api", "golive-pushd"])
def test_yaml_role_longer_than_a_token_role_is_a_startup_error(tmp_path, binary):
    cfg = tmp_path / "realtime.yaml"
    cfg.write_text(BAD_YAML)
    env = dict(os.environ, REALTIME_CONFIG_PATH=str(cfg), GOLIVE_RUNDIR=str(tmp_path),
               JWT_SECRET="s3cret", LOG_LEVEL="info")
    args = [binary, "--listen", str(tmp_path / "api.sock")] if binary == API_BIN else [binary]
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0, (p.returncode, p.stderr)
    want = (f"{cfg}:9: channels[0].allowed_roles[1]: role '{TOO_LONG}' can never match a "
            "token's role: role names are 1 to 31 bytes of [a-z0-9_-]")
    assert want in p.stderr, p.stderr


@pytest.mark.parametrize("binary", [API_BIN, PUSHD_BIN], ids=["golive-api", "golive-pushd"])
def test_yaml_role_of_31_bytes_is_accepted(tmp_path, binary):
    """The longest role a token can carry loads (the process then runs; stopped at once)."""
    cfg = tmp_path / "realtime.yaml"
    cfg.write_text(BAD_YAML.replace(TOO_LONG, "r" * 31))
    env = dict(os.environ, REALTIME_CONFIG_PATH=str(cfg), GOLIVE_RUNDIR=str(tmp_path),
               JWT_SECRET="s3cret", LOG_LEVEL="info")
    args = [binary, "--listen", str(tmp_path / "api.sock")] if binary == API_BIN else [binary]
    p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        p.wait(1.5)
        out = p.stderr.read()
        raise AssertionError(f"{binary} exited with {p.returncode}: {out}")
    except subprocess.TimeoutExpired:
        pass
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(10)
