"""Streaming end to end with real parts: ffmpeg pushes a generated test pattern (video and audio)
over RTMP into nginx-rtmp (Debian's libnginx-mod-rtmp, media/nginx-rtmp), which asks golive-api
(through nginx, FastCGI) whether the key may publish and reports the stream's end; the chat
hears about both through golive-pushd, and viewers fetch HLS (and DASH) over HTTP."""

import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import close_all, is_message, json_body, push_test_pattern, run, wait_for

STACK_API = True
STACK_MEDIA = True

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed "
                                "(tools/install-deps.sh installs it; make test runs that)")


def fresh_name():
    return "tv" + uuid.uuid4().hex[:8]


def new_key(stack, username="Alice"):
    sub = "u_" + uuid.uuid4().hex[:8]
    tok = stack.token(sub, username=username, permissions=["stream.create"])
    r = stack.http("POST", "/api/streaming/keys", token=tok, json={"stream_name": fresh_name()})
    return sub, tok, json_body(r, 201)


def ffmpeg(url, seconds):
    return push_test_pattern(url, seconds, stderr=subprocess.PIPE)


def finish(proc, timeout):
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError("ffmpeg did not finish in time")
    return proc.returncode, err.decode("utf-8", "replace")


def live_names(stack):
    return [s["name"] for s in json_body(stack.http("GET", "/api/streaming/streams"))["streams"]]


def test_a_stream_goes_live_plays_over_hls_and_ends_in_chat(stack):
    sub, tok, k = new_key(stack, username="Alice")
    name, channel = k["stream_name"], k["channel"]
    assert k["hls_url"] == f"http://127.0.0.1:{stack.hls_port}/live/{name}/index.m3u8"

    async def body():
        viewer = await stack.client(stack.token("mod_e2e", role="moderator"))
        await viewer.subscribe(channel)
        proc = ffmpeg(f"{stack.rtmp_url}/{k['key']}", seconds=9)
        started = await viewer.recv_until(is_message(channel), timeout=10)
        assert started["data"]["type"] == "stream_started"
        assert started["data"]["text"] == "Alice is live"
        assert started["data"]["hls_url"] == k["hls_url"]

        # The playlist appears once a fragment is cut (hls_fragment 2s) and names segments
        # that are fetchable MPEG-TS; DASH too. Neither path carries the key.
        def playlist():
            r = stack.hls(f"{name}/index.m3u8")
            return r if r.status_code == 200 and ".ts" in r.text else None
        pl = wait_for(playlist, timeout=12, what="the HLS playlist")
        assert pl.text.startswith("#EXTM3U")
        assert pl.headers["Content-Type"] == "application/vnd.apple.mpegurl"
        segment = [ln for ln in pl.text.splitlines() if ln.endswith(".ts")][0]
        seg = stack.hls(f"{name}/{segment}")
        assert seg.status_code == 200 and len(seg.content) > 1000
        assert seg.content[0] == 0x47  # an MPEG-TS sync byte
        mpd = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(
            stack.hls(f"{name}/index.mpd")), timeout=12, what="the DASH manifest")
        assert "<MPD" in mpd.text
        assert k["key"] not in pl.text and k["key"] not in mpd.text
        media_dirs = os.listdir(os.path.join(stack.rundir, "media", "hls"))
        assert name in media_dirs and not any(k["key"] in d for d in media_dirs)
        assert stack.hls(f"{k['key']}/index.m3u8").status_code == 404

        listed = [s for s in json_body(stack.http("GET", "/api/streaming/streams"))["streams"]
                  if s["name"] == name]
        assert listed and listed[0]["live"] is True and listed[0]["hls_url"] == k["hls_url"]
        assert listed[0]["user_id"] == sub

        rc, err = finish(proc, timeout=20)
        assert rc == 0, err
        ended = await viewer.recv_until(is_message(channel), timeout=10)
        assert ended["data"]["type"] == "stream_stopped"
        assert ended["data"]["text"] == "Alice's stream ended"
        wait_for(lambda: name not in live_names(stack), timeout=5, what="the stream to be unlisted")
        await close_all(viewer)

    run(body(), timeout=60)


def test_a_wrong_or_revoked_key_cannot_publish(stack):
    _, tok, k = new_key(stack)
    for bad in ("sk_" + "0" * 64, "not-a-key", k["stream_name"]):
        rc, err = finish(ffmpeg(f"{stack.rtmp_url}/{bad}", seconds=3), timeout=20)
        assert rc != 0, f"ffmpeg published with {bad!r}"
    json_body(stack.http("DELETE", f"/api/streaming/keys/{k['id']}", token=tok))
    rc, _ = finish(ffmpeg(f"{stack.rtmp_url}/{k['key']}", seconds=3), timeout=20)
    assert rc != 0, "ffmpeg published with a revoked key"
    assert k["stream_name"] not in live_names(stack)
    assert not os.path.exists(os.path.join(stack.rundir, "media", "hls", k["stream_name"]))


def test_the_packaging_stage_takes_no_publisher_of_its_own(stack):
    """rtmp://.../hls is fed by the ingest's relay only: a publish straight to it (here from
    the allowed loopback address) is refused while the stream is not live."""
    _, _, k = new_key(stack)
    url = f"rtmp://127.0.0.1:{stack.rtmp_port}/hls/{k['stream_name']}"
    rc, _ = finish(ffmpeg(url, seconds=3), timeout=20)
    assert rc != 0
    assert k["stream_name"] not in live_names(stack)


def test_revoking_the_key_drops_a_live_publisher(stack):
    """nginx-rtmp re-asks golive-api every 10 s (on_update) while a stream lasts."""
    _, tok, k = new_key(stack)
    proc = ffmpeg(f"{stack.rtmp_url}/{k['key']}", seconds=40)
    try:
        wait_for(lambda: k["stream_name"] in live_names(stack), timeout=10, what="the stream")
        json_body(stack.http("DELETE", f"/api/streaming/keys/{k['id']}", token=tok))
        t0 = time.monotonic()
        wait_for(lambda: k["stream_name"] not in live_names(stack), timeout=16,
                 what="the publisher to be dropped")
        assert time.monotonic() - t0 < 15
        assert proc.wait(timeout=10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
