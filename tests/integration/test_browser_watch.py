"""The watch page in a real browser (headless Chromium): ffmpeg pushes a test pattern into
nginx-rtmp and the page plays it (hls.js), its chat announcing the start and the end, then shows
offline; a stream that is offline shows offline with its chat beside the player, at desktop and
at phone width; an unknown name says so. Screenshots: build/screenshots/."""

import shutil
import subprocess
import uuid

import pytest

from browser import (SHIPPED_CONFIG, browsers, js, open_page, screenshot, send_chat,  # noqa: F401
                     visible_text, wait_chat_ready, wait_texts, wait_until)
from conftest import json_body, push_test_pattern

STACK_CONFIG = SHIPPED_CONFIG
STACK_API = True
STACK_MEDIA = True  # nginx-rtmp on free ports, as make run starts it
FFMPEG = shutil.which("ffmpeg")


def make_stream(stack, name):
    """A streamer makes a key for name (the stream exists, offline until a publish); returns
    (the streamer's token, the stream key)."""
    token = stack.token("u_" + name, username=name, role="streamer")
    r = stack.http("POST", "/api/streaming/keys", token=token, json={"stream_name": name})
    return token, json_body(r, 201)["key"]


def test_an_offline_stream_shows_offline_and_its_chat(stack, browsers):
    name = "quiet" + uuid.uuid4().hex[:8]
    streamer, _ = make_stream(stack, name)
    stack.publish_rest(f"chat:stream_{name}", {"content": "see you at 8"}, streamer)

    viewer = browsers()
    open_page(viewer, stack, f"/watch/{name}", stack.token("u_viewer", username="viewer"))
    wait_chat_ready(viewer)
    wait_until(viewer, lambda d: visible_text(d, "#stream-state") == "Offline",
               what="the stream's state to read Offline")
    assert visible_text(viewer, "#stream-name") == name
    offline = visible_text(viewer, "#offline")
    assert offline and "offline" in offline and name in offline, offline
    assert visible_text(viewer, "#dash-link") is None, "no DASH link while offline"
    assert js(viewer, "return document.querySelector('.chat').dataset.channel") == \
        f"chat:stream_{name}"
    wait_texts(viewer, ["see you at 8"])
    send_chat(viewer, "I'll be here")
    wait_texts(viewer, ["see you at 8", "I'll be here"])
    assert [m["data"]["content"] for m in stack.history_rest(f"chat:stream_{name}")] == \
        ["see you at 8", "I'll be here"]
    screenshot(viewer, "watch-offline")

    # at phone width the chat goes under the player, and both are on screen
    phone = browsers(width=390, height=844)
    open_page(phone, stack, f"/watch/{name}")
    wait_chat_ready(phone)
    wait_texts(phone, ["see you at 8", "I'll be here"])
    box = js(phone, """const v = document.querySelector('.player').getBoundingClientRect(),
                              c = document.querySelector('.chat').getBoundingClientRect();
                       return [v.right, c.top >= v.bottom, document.documentElement.scrollWidth];""")
    assert box[0] <= 390 and box[1] is True and box[2] <= 390, f"layout at 390 px: {box}"
    screenshot(phone, "watch-offline-phone")


def test_an_unknown_stream_says_so(stack, browsers):
    b = browsers()
    open_page(b, stack, "/watch/nobody" + uuid.uuid4().hex[:6])
    wait_chat_ready(b)
    wait_until(b, lambda d: "no stream called" in (visible_text(d, "#offline") or ""),
               what="the page to say there is no such stream")
    assert visible_text(b, "#stream-state") == "Offline"


def test_the_start_page_leads_to_a_watch_page(stack, browsers):
    """/ says who is live (nobody here), and its box opens /watch/<name>, signed in as the
    token of the link that opened it."""
    b = browsers()
    open_page(b, stack, "/", stack.token("u_vic", username="vic"))
    wait_until(b, lambda d: "Nobody is live" in (visible_text(d, "#live") or ""),
               what="the list of live streams")
    assert "token=" not in b.current_url
    assert (visible_text(b, "#who") or "").startswith("vic (user)")
    screenshot(b, "home")
    js(b, "const f = document.getElementById('go-watch'); f.name.value = 'somebody';"
          "f.requestSubmit();")
    wait_until(b, lambda d: d.current_url.endswith("/watch/somebody"), what="the watch page")
    wait_chat_ready(b)
    assert visible_text(b, ".chat-me").startswith("vic")


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (tools/install-deps.sh)")
def test_the_watch_page_plays_a_live_stream_and_shows_its_end(stack, browsers):
    name = "tv" + uuid.uuid4().hex[:8]
    _, secret = make_stream(stack, name)
    viewer = browsers()
    open_page(viewer, stack, f"/watch/{name}", stack.token("u_fan", username="fan"))
    wait_chat_ready(viewer)
    assert visible_text(viewer, "#stream-state") == "Offline"

    proc = push_test_pattern(f"{stack.rtmp_url}/{secret}", 60, size="640x360")
    try:
        wait_until(viewer, lambda d: visible_text(d, "#stream-state") == "LIVE", timeout=30,
                   what="the page to show the stream live")
        wait_texts(viewer, [f"{name} is live"])
        send_chat(viewer, "what a test pattern!")
        wait_texts(viewer, [f"{name} is live", "what a test pattern!"])
        assert js(viewer, "return document.querySelector('.chat-log .msg.system') !== null")
        dash = js(viewer, "return document.getElementById('dash-link').href")
        assert dash.endswith(f"/live/{name}/index.mpd"), dash
        played = js(viewer, "return document.getElementById('video').currentTime")
        wait_until(viewer, lambda d: js(d, "return document.getElementById('video').currentTime")
                   > played + 2, timeout=40, what="the video to play (currentTime to advance)")
        screenshot(viewer, "watch-live")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    wait_until(viewer, lambda d: visible_text(d, "#stream-state") == "Offline", timeout=30,
               what="the page to show the stream offline once ffmpeg stopped")
    wait_texts(viewer, [f"{name} is live", "what a test pattern!", f"{name}'s stream ended"])
    assert "offline" in (visible_text(viewer, "#offline") or "")
