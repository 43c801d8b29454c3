"""The streamer page (/stream) in a real browser (headless Chromium): a streamer creates a stream
key in the page, which shows it once with the RTMP URL, as OBS asks for them; ffmpeg streams a
test pattern with that key into nginx-rtmp and the page lists the stream live (the watch page
too); revoking the key in the page shows it revoked and cuts the stream off. Refusals are shown
in words. Screenshots: build/screenshots/."""

import shutil
import subprocess
import uuid

import pytest

from browser import (SHIPPED_CONFIG, browsers, js, open_page, screenshot, visible_text,  # noqa: F401
                     wait_until)
from conftest import json_body, push_test_pattern

STACK_CONFIG = SHIPPED_CONFIG
STACK_API = True
STACK_MEDIA = True  # nginx-rtmp on free ports, as make run starts it
FFMPEG = shutil.which("ffmpeg")


def key_row(driver, name):
    """{active, live, text} of the page's row for stream name, or None."""
    return js(driver, """const li = [...document.querySelectorAll('#keys .key')]
                             .find(e => e.dataset.name === arguments[0]);
                         return li ? {active: li.dataset.active, live: li.dataset.live,
                                      text: li.textContent} : null;""", name)


def create_key(driver, name):
    js(driver, "const f = document.getElementById('new-key'); f.stream_name.value = arguments[0];"
               "f.requestSubmit();", name)


def ffmpeg_push(url, seconds=60):
    return push_test_pattern(url, seconds, size="640x360")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_guest_and_a_viewer_are_told_why_not(stack, browsers):
    b = browsers()
    open_page(b, stack, "/stream")
    wait_until(b, lambda d: "Sign in to stream" in (visible_text(d, "#signin") or ""),
               what="the page to ask a guest to sign in")
    assert visible_text(b, "#new-key") is None

    v = browsers()
    open_page(v, stack, "/stream", stack.token("u_plain", username="plain"))
    wait_until(v, lambda d: "does not say you may stream" in (visible_text(d, "#signin") or ""),
               what="the page to warn a plain user")
    create_key(v, "plain" + uuid.uuid4().hex[:6])
    wait_until(v, lambda d: "may not stream" in (visible_text(d, "#status") or ""),
               what="the server's 403 in words")
    assert js(v, "return document.getElementById('status').dataset.kind") == "error"
    assert visible_text(v, "#obs") is None, "no key was made"


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (tools/install-deps.sh)")
def test_a_streamer_creates_a_key_goes_live_and_revokes_it(stack, browsers):
    name = "show" + uuid.uuid4().hex[:8]
    user = "caster" + uuid.uuid4().hex[:6]
    token = stack.token("u_" + user, username=user, role="streamer")
    b = browsers(height=1000)
    open_page(b, stack, "/stream", token)
    assert "token=" not in b.current_url
    assert (visible_text(b, "#who") or "").startswith(f"{user} (streamer)")
    wait_until(b, lambda d: "No stream keys yet" in (visible_text(d, "#keys") or ""),
               what="an empty list of keys")

    create_key(b, name)
    wait_until(b, lambda d: visible_text(d, "#obs") is not None, what="the new key and RTMP URL")
    key = js(b, "return document.getElementById('stream-key').value")
    rtmp = js(b, "return document.getElementById('rtmp-url').value")
    assert key.startswith("sk_") and len(key) == 3 + 64, key
    assert rtmp == stack.rtmp_url, rtmp
    assert "not be shown again" in visible_text(b, "#key-warning")
    assert js(b, "return document.querySelectorAll('[data-copy]').length") == 2
    wait_until(b, lambda d: (key_row(d, name) or {}).get("active") == "true",
               what="the key listed as active")
    assert key not in visible_text(b, "#keys"), "the list never shows a key"
    screenshot(b, "stream-key-created")

    proc = ffmpeg_push(f"{rtmp}/{key}")
    try:
        wait_until(b, lambda d: (key_row(d, name) or {}).get("live") == "true", timeout=30,
                   what="the page to list the stream live")
        assert "LIVE" in key_row(b, name)["text"]
        href = js(b, "return [...document.querySelectorAll('#keys .key')].find(e => "
                     "e.dataset.name === arguments[0]).querySelector('a').href", name)
        assert href == f"{stack.base_url}/watch/{name}", href
        assert json_body(stack.http("GET", f"/api/streaming/streams/{name}"), 200)["live"] is True
        screenshot(b, "stream-page")

        # the key is shown once: a reload lists the key (live) but not the secret
        open_page(b, stack, "/stream")
        wait_until(b, lambda d: (key_row(d, name) or {}).get("live") == "true",
                   what="the key listed after a reload")
        assert visible_text(b, "#obs") is None and key not in js(b, "return document.body.innerHTML")
        # the same name again: the server's 409, in words
        create_key(b, name)
        wait_until(b, lambda d: "already has a key" in (visible_text(d, "#status") or ""),
                   what="the 409 in words")
        assert visible_text(b, "#status").startswith("Not done")

        w = browsers()
        open_page(w, stack, f"/watch/{name}")
        wait_until(w, lambda d: visible_text(d, "#stream-state") == "LIVE", timeout=30,
                   what="the watch page to show the stream live")

        # at phone width the list fits the screen
        phone = browsers(width=390, height=844)
        open_page(phone, stack, "/stream", token)
        wait_until(phone, lambda d: (key_row(d, name) or {}).get("live") == "true",
                   what="the list at phone width")
        width = js(phone, "return document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide at 390 px"
        screenshot(phone, "stream-page-phone")

        # Revoke: two clicks (the first asks again)
        sel = f"#keys .key[data-name='{name}'] .revoke"
        js(b, f"document.querySelector(\"{sel}\").click()")
        wait_until(b, lambda d: "Really revoke" in (visible_text(d, sel) or ""),
                   what="Revoke to ask again")
        js(b, f"document.querySelector(\"{sel}\").click()")
        wait_until(b, lambda d: (key_row(d, name) or {}).get("active") == "false",
                   what="the key listed as revoked")
        assert "revoked" in key_row(b, name)["text"]
        assert "is revoked" in visible_text(b, "#status")
        assert visible_text(b, sel) is None, "no Revoke on a revoked key"
        keys = json_body(stack.http("GET", "/api/streaming/keys", token=token), 200)["keys"]
        assert [k["active"] for k in keys if k["stream_name"] == name] == [False]
        # nginx-rtmp drops a publisher whose key was revoked within 10 s (update_publish)
        wait_until(b, lambda d: (key_row(d, name) or {}).get("live") == "false", timeout=30,
                   what="the revoked stream to go offline")
        screenshot(b, "stream-page-revoked")
    finally:
        stop(proc)
