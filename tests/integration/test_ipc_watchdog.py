"""pushd probes its own nng listener every 2 s (nng 1.5.2 bug #1518, pushd/ipc_watchdog.c) with
a wire request of its own: the probe must speak the current wire version, or every probe is
refused and logged as a warning."""
import time


def test_the_listener_probe_is_a_valid_request(stack):
    time.sleep(4.5)  # two probes at least
    with open(stack.pushd_log) as f:
        log = f.read()
    assert "unsupported wire version" not in log and "refused a request" not in log, log[-2000:]
