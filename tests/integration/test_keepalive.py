"""Keep-alive: pushd PINGs a client that has been silent for GOLIVE_PING_SECS and closes one that
stays silent (no frame, no PONG) for GOLIVE_IDLE_TIMEOUT_SECS. pushd runs this itself from a
once-a-second sweep instead of lws's per-connection timers (docs/benchmarks.md), so these tests
use a raw socket to see exactly which frames arrive and when."""
import os
import socket
import subprocess
import time

from conftest import PUSHD_BIN
from rawws import RawWS

PING_SECS = 1
TIMEOUT_SECS = 3
STACK_ENV = {"GOLIVE_PING_SECS": str(PING_SECS), "GOLIVE_IDLE_TIMEOUT_SECS": str(TIMEOUT_SECS)}


def test_a_silent_client_that_answers_pings_stays_connected(stack):
    ws = RawWS(stack.sock_path)
    pings, until = 0, time.monotonic() + TIMEOUT_SECS + 2.5
    try:
        while time.monotonic() < until:
            try:
                op, payload = ws.frame(timeout=until - time.monotonic())
            except socket.timeout:
                break
            if op == 0x9:
                pings += 1
                ws.send(0xA, payload)
        assert pings >= 2, f"expected a PING about every {PING_SECS + 1} s, got {pings}"
        # still served after more than the idle timeout
        ws.send(0x1, b'{"type":"subscribe","channel":"public:ka","id":1}')
        op, payload = ws.frame(timeout=5)
        assert op == 0x1 and b'"type":"subscribe"' in payload
    finally:
        ws.close()


def test_a_client_that_never_answers_is_closed_after_the_idle_timeout(stack):
    ws = RawWS(stack.sock_path)
    start = time.monotonic()
    try:
        op, _ = ws.frame(timeout=PING_SECS + 3)
        first_ping = time.monotonic() - start
        assert op == 0x9, f"expected a PING first, got opcode {op}"
        assert first_ping >= PING_SECS - 0.2, f"PING after {first_ping:.2f} s"
        try:
            while True:
                op, _ = ws.frame(timeout=TIMEOUT_SECS + 3)
                assert op == 0x9, f"unexpected opcode {op}"
        except EOFError:
            pass
        closed_after = time.monotonic() - start
        assert TIMEOUT_SECS - 0.2 <= closed_after <= TIMEOUT_SECS + 2, closed_after
    finally:
        ws.close()


def test_pushd_refuses_an_idle_timeout_not_above_the_ping_interval(tmp_path):
    env = dict(os.environ, GOLIVE_RUNDIR=str(tmp_path), GOLIVE_PING_SECS="30",
               GOLIVE_IDLE_TIMEOUT_SECS="30", JWT_SECRET="x" * 32)
    r = subprocess.run([PUSHD_BIN], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert "GOLIVE_IDLE_TIMEOUT_SECS must be greater than GOLIVE_PING_SECS" in r.stderr
