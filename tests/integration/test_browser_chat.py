"""The chat panel in a real browser (headless Chromium), each test a user's story, against the
real stack (nginx serving web/, golive-api, golive-pushd) with the shipped conf/realtime.yaml:
two people chat and see each other in presence, a guest reads but is told why they cannot send;
both keep every message, once and in order, across a pushd restart; HTML in a message stays
text. Screenshots: build/screenshots/."""

import os

import requests

from browser import (SHIPPED_CONFIG, browsers, chat_messages, js, open_chat, screenshot,  # noqa: F401
                     send_chat, visible_text, wait_chat_ready, wait_texts, wait_until)
from conftest import REPO, unique_channel, wait_for

STACK_CONFIG = SHIPPED_CONFIG
STACK_API = True


def test_web_app_pages_are_served_by_nginx(stack):
    """make run's nginx config: / and the two page routes give the HTML, the scripts are
    JavaScript (module scripts need it), unknown paths stay JSON 404s."""
    for path, marker in (("/", "Live now"), ("/watch/alice", 'src="/app/watch.js"'),
                         ("/embed/chat/public:lobby", 'src="/app/embed-chat.js"')):
        r = requests.get(stack.base_url + path, timeout=10)
        assert r.status_code == 200 and marker in r.text, (path, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("text/html"), r.headers
    for path in ("/golive.js", "/app/chat-panel.js", "/vendor/hls.js/hls.min.js"):
        r = requests.get(stack.base_url + path, timeout=10)
        assert r.status_code == 200, path
        assert "javascript" in r.headers["Content-Type"], (path, r.headers)
    r = requests.get(stack.base_url + "/nope", timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_two_people_chat_and_a_guest_reads_but_is_told_why_they_cannot_send(stack, browsers):
    ch = unique_channel()
    alice, bob, guest = browsers(), browsers(), browsers()
    open_chat(alice, stack, ch, stack.token("u_alice", username="alice"))
    open_chat(bob, stack, ch, stack.token("u_bob", username="bob"))
    open_chat(guest, stack, ch)

    # the sign-in link's token left the address bar and lives in this tab's sessionStorage
    assert "token=" not in alice.current_url, alice.current_url
    assert js(alice, "return sessionStorage.getItem('golive.token')")
    assert visible_text(alice, ".chat-me").startswith("alice")
    assert js(alice, "return document.querySelector('.chat').dataset.role") == "user"
    assert js(guest, "return document.querySelector('.chat').dataset.role") == "anonymous"

    send_chat(alice, "hi bob, it's alice")
    wait_texts(bob, ["hi bob, it's alice"])
    send_chat(bob, "hello alice!")
    for b in (alice, bob, guest):
        wait_texts(b, ["hi bob, it's alice", "hello alice!"])
    assert [m[1] for m in chat_messages(guest)] == ["alice", "bob"]

    # presence: both signed-in users by name, and the guest counted
    js(alice, "document.querySelector('.presence-toggle').click()")
    wait_until(alice, lambda d: visible_text(d, ".presence-count") == "3",
               what="presence to count alice, bob and the guest")
    names = js(alice, "return [...document.querySelectorAll('.presence-list li')].map(e => e.textContent)")
    assert names == ["alice", "bob", "1 guest"], names

    # the guest reads, has no send box, and the panel says why
    assert visible_text(guest, ".chat-send input") is None
    why = visible_text(guest, ".chat-readonly")
    assert why and "sign in to chat" in why.lower(), why
    screenshot(alice, "chat-alice")
    screenshot(guest, "chat-guest")


def test_both_sessions_keep_every_message_across_a_pushd_restart(stack, browsers):
    ch = unique_channel()
    carol = stack.token("u_carol", username="carol")
    alice, bob = browsers(), browsers()
    open_chat(alice, stack, ch, stack.token("u_alice", username="alice"))
    open_chat(bob, stack, ch, stack.token("u_bob", username="bob"))
    send_chat(alice, "before the restart")
    wait_texts(bob, ["before the restart"])

    rc, _ = stack.stop_pushd()
    assert rc == 0, f"golive-pushd exited with {rc} on SIGTERM"
    for b in (alice, bob):
        wait_until(b, lambda d: "Reconnecting" in (visible_text(d, ".chat-banner") or ""),
                   what="the reconnecting banner")
    # written over REST while pushd is down: stored, not pushed
    for text in ("while pushd was down 1", "while pushd was down 2"):
        r = stack.publish_rest(ch, {"content": text}, carol)
        assert r["pushed"] is False, r
    screenshot(alice, "chat-reconnecting")

    stack.start_pushd()
    # Once golive-api reaches the new pushd again (its nng link redials on its own), a REST
    # message is pushed live, or replayed to a page still waiting to reconnect. (One stored in
    # the moment between pushd's start and that redial is neither pushed nor, for a page that
    # already resubscribed, replayed: it shows only after the next reconnect.)
    wait_for(lambda: stack.http("GET", "/api/realtime/channels").json().get("live"), 20,
             what="golive-api to reach the restarted pushd")
    stack.publish_rest(ch, {"content": "right after the restart"}, carol)
    want = ["before the restart", "while pushd was down 1", "while pushd was down 2",
            "right after the restart"]
    for b in (alice, bob):
        # the backoff may have grown to several seconds while pushd was down
        wait_texts(b, want, timeout=60)
        wait_until(b, lambda d: visible_text(d, ".chat-banner") is None,
                   what="the banner to go once reconnected")
    send_chat(bob, "we are back")
    want.append("we are back")
    for b in (alice, bob):
        wait_texts(b, want)
        ids = [m[0] for m in chat_messages(b)]
        assert ids == sorted(set(ids)), f"each message once, in id order: {ids}"
    assert [r["id"] for r in stack.db_messages(ch)] == ids


def test_html_in_a_message_is_shown_as_text_and_runs_nothing(stack, browsers):
    ch = unique_channel()
    payloads = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>",
                "<b>bold?</b> & <a href=javascript:window.__pwned=3>link</a>"]
    alice, bob = browsers(), browsers()
    open_chat(alice, stack, ch, stack.token("u_alice", username="alice"))
    open_chat(bob, stack, ch, stack.token("u_bob", username="bob"))
    for p in payloads[:2]:
        send_chat(alice, p)
    stack.publish_rest(ch, {"content": payloads[2]}, stack.token("u_carol", username="carol"))
    wait_texts(bob, payloads)

    def clean(b):
        assert js(b, "return window.__pwned") is None, "a payload ran"
        n = js(b, "return document.querySelectorAll('.chat-log img, .chat-log script, "
                  ".chat-log b, .chat-log a').length")
        assert n == 0, f"{n} elements made from message text"

    clean(bob)
    # from history too (a fresh page reads them over WS history)
    bob.refresh()
    wait_chat_ready(bob)
    wait_texts(bob, payloads)
    clean(bob)
    clean(alice)
    screenshot(bob, "chat-html-as-text")


def test_a_reader_scrolls_back_and_sees_deletions_live(stack, browsers):
    """History opens on the newest 50; scrolling to the top reads older pages (before) up to the
    beginning; a message a moderator deletes disappears from the open page."""
    ch = unique_channel()
    # 60 messages at once: past a chatter's publish rate (docs/moderation.md), so a site's
    # backend (an admin token, exempt) seeds them in carol's name
    carol = stack.token("u_carol", username="carol", role="admin")
    ids = [stack.publish_rest(ch, {"content": f"m{i}"}, carol)["id"] for i in range(60)]
    reader = browsers()
    open_chat(reader, stack, ch, stack.token("u_dora", username="dora"))
    wait_texts(reader, [f"m{i}" for i in range(10, 60)])
    js(reader, "document.querySelector('.chat-log').scrollTop = 0")
    wait_texts(reader, [f"m{i}" for i in range(60)])
    wait_until(reader, lambda d: "beginning" in (visible_text(d, ".chat-start") or ""),
               what="the panel to say it reached the beginning")

    mod = stack.token("u_mod", username="mod", role="moderator")
    r = stack.rest("DELETE", ch, "messages", ids[30], token=mod)
    assert r.status_code == 200, r.text
    wait_texts(reader, [f"m{i}" for i in range(60) if i != 30])


def test_the_send_box_says_why_a_message_was_refused(stack, browsers):
    ch = unique_channel()
    alice, bob = browsers(), browsers()
    open_chat(alice, stack, ch, stack.token("u_alice", username="alice"))
    open_chat(bob, stack, ch, stack.token("u_bob", username="bob"))

    # a timeout of alice turns her box off, saying so and why
    mod = stack.token("u_mod", username="mod", role="moderator")
    r = stack.rest("POST", ch, "users", "u_alice", "timeout", token=mod,
                   json={"duration": 600, "reason": "calm down"})
    assert r.status_code == 200, r.text
    said = wait_until(alice, lambda d: visible_text(d, ".chat-error"),
                      what="alice to be told she is timed out")
    assert "timed out" in said and "calm down" in said, said
    assert js(alice, "return document.querySelector('.chat-send input').disabled") is True

    # a message too big for the server is refused before it costs the connection
    js(bob, """const i = document.querySelector('.chat-send input'); i.value = 'x'.repeat(70000);
               i.form.requestSubmit();""")
    said = wait_until(bob, lambda d: visible_text(d, ".chat-error"), what="bob's refusal")
    assert "too long" in said, said
    send_chat(bob, "short is fine")
    wait_texts(alice, ["short is fine"])
    assert js(bob, "return window.golive.client.state") == "connected"


class OtherSite:
    """A web site of another origin (http://localhost:PORT, the stack being 127.0.0.1): serves
    self.pages (path -> (content type, bytes)) from a thread."""

    def __init__(self, pages=None):
        import http.server
        import threading

        self.pages = pages = dict(pages or {})

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                ctype, body = pages.get(self.path, ("text/plain", b"not found"))
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", ctype)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_another_site_embeds_the_chat_in_an_iframe(stack, browsers):
    """docs/client.md's embed, followed literally: a page of another origin frames
    /embed/chat/<channel>?token=...; the chat loads and sends (the frame is GoLive's own page,
    same-origin with the socket, so allowed_origins needs no entry)."""
    ch = unique_channel()
    token = stack.token("u_emma", username="emma")
    site = OtherSite({"/": ("text/html", (
        f'<!doctype html><title>my site</title><h1>My stream</h1>'
        f'<iframe src="{stack.base_url}/embed/chat/{ch}?token={token}" '
        f'style="width: 360px; height: 500px; border: 0"></iframe>').encode())})
    try:
        b = browsers()
        b.get(site.origin + "/")
        b.switch_to.frame(b.find_element("css selector", "iframe"))
        wait_chat_ready(b)
        send_chat(b, "hello from an embed")
        wait_texts(b, ["hello from an embed"])
        assert [m["data"]["content"] for m in stack.history_rest(ch)] == ["hello from an embed"]
        b.switch_to.default_content()
        screenshot(b, "embed-in-a-site")
    finally:
        site.close()


def test_another_site_uses_golive_js_as_docs_client_md_shows(make_stack, browsers):
    """docs/client.md's golive.js example on a page of another site, listed in allowed_origins:
    the module loads from GoLive's host (CORS), getToken fetches the site's token, history then
    subscribe with since, publish from the form, and the message shows."""
    site = OtherSite()
    try:
        st = make_stack(config=STACK_CONFIG + f'\nallowed_origins:\n  - "{site.origin}"\n', api=True)
        ch = unique_channel()
        st.publish_rest(ch, {"content": "earlier"}, st.token("u_carol", username="carol"))
        token = st.token("u_finn", username="finn")
        with open(os.path.join(REPO, "docs", "client.md")) as f:
            doc = f.read()
        snippet = doc.split("## golive.js on your own page", 1)[1].split("```html\n", 1)[1]
        snippet = snippet.split("```", 1)[0]
        page = (snippet.replace("https://chat.example.com", st.base_url)
                .replace("wss://chat.example.com", f"ws://127.0.0.1:{st.port}")
                .replace("chat:stream_alice", ch))
        site.pages.update({"/": ("text/html", page.encode()),
                           "/my-site/golive-token": ("text/plain", token.encode())})
        b = browsers()
        b.get(site.origin + "/")
        wait_until(b, lambda d: js(d, "return [...document.querySelectorAll('#chat li')]"
                                      ".map(li => li.textContent)") == ["carol: earlier"],
                   what="the history the example loads")
        box = b.find_element("css selector", "#send input")
        box.send_keys("hi from my own widget\n")
        wait_until(b, lambda d: js(d, "return [...document.querySelectorAll('#chat li')]"
                                      ".map(li => li.textContent)")
                   == ["carol: earlier", "finn: hi from my own widget"],
                   what="the published message to show once")
    finally:
        site.close()
