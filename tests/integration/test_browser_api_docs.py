"""The API reader (/docs/api) in a real browser (headless Chromium): it draws every operation of
docs/openapi.yaml (served as /openapi.json) under its tag, a filter narrows them, and "Try it"
sends real requests with the signed-in token: a publish that lands in history and a history
read that shows it. Screenshot: build/screenshots/api-docs.png."""

import json
import os

from browser import browsers, js, open_page, screenshot, wait_until  # noqa: F401
from conftest import REPO, unique_channel

STACK_API = True

with open(os.path.join(REPO, "web", "openapi.json")) as f:
    SPEC = json.load(f)
OPS = {(m.upper(), p): op["operationId"] for p, item in SPEC["paths"].items()
       for m, op in item.items() if m in ("get", "put", "post", "delete", "patch")}


def wait_ready(d):
    wait_until(d, lambda d: js(d, "return document.body.dataset.ready === 'true'"),
               what="the API reader to load /openapi.json")


def try_it(d, op_id, values, body=None):
    """Open op_id, fill its Try-it form and send; returns (status, output text)."""
    js(d, "const e = document.getElementById(arguments[0]); e.open = true; e.scrollIntoView();"
          "e.querySelector('.try-out').dataset.status = '';", op_id)
    for name, v in values.items():
        js(d, "document.getElementById(arguments[0]).querySelector(`.try input[name=\"${arguments[1]}\"]`)"
              ".value = arguments[2]", op_id, name, v)
    if body is not None:
        js(d, "document.getElementById(arguments[0]).querySelector('.try textarea').value = arguments[1]",
           op_id, body)
    js(d, "document.getElementById(arguments[0]).querySelector('.try button').click()", op_id)
    status = wait_until(d, lambda d: js(d, "return document.getElementById(arguments[0])"
                                           ".querySelector('.try-out').dataset.status", op_id),
                        what=f"{op_id}'s reply")
    return int(status), js(d, "return document.getElementById(arguments[0])"
                              ".querySelector('.try-out').textContent", op_id)


def test_the_reader_lists_every_operation_and_tries_them(stack, browsers):
    ch = unique_channel()
    d = browsers()
    open_page(d, stack, "/docs/api", stack.token("u_docs", username="docs", role="admin"))
    wait_ready(d)
    shown = js(d, "return [...document.querySelectorAll('details.op')].map(e => e.id)")
    assert sorted(shown) == sorted(OPS.values())
    assert js(d, "return document.getElementById('title').textContent") == \
        f"{SPEC['info']['title']} {SPEC['info']['version']}"
    assert js(d, "return document.getElementById('token').value"), "the signed-in token is filled in"
    js(d, "document.querySelector('.api-tools').scrollIntoView()")
    screenshot(d, "api-docs-list")
    tags = js(d, "return [...document.querySelectorAll('section.tag h2')].map(e => e.textContent)")
    assert len(tags) >= 3 and len(set(tags)) == len(tags), tags

    # the filter keeps what matches, and the sections that hold them
    js(d, "const f = document.getElementById('filter'); f.value = 'ban';"
          "f.dispatchEvent(new Event('input'))")
    visible = js(d, "return [...document.querySelectorAll('details.op')].filter(e => !e.hidden)"
                    ".map(e => e.querySelector('.path').textContent)")
    assert visible and all("ban" in p for p in visible), visible
    js(d, "const f = document.getElementById('filter'); f.value = '';"
          "f.dispatchEvent(new Event('input'))")

    publish = OPS[("POST", "/api/realtime/channels/{channel}/publish")]
    status, out = try_it(d, publish, {"channel": ch}, '{"data": {"content": "from the reader"}}')
    assert status == 200, out
    assert [m["data"]["content"] for m in stack.history_rest(ch)] == ["from the reader"]
    history = OPS[("GET", "/api/realtime/channels/{channel}/history")]
    status, out = try_it(d, history, {"channel": ch})
    assert status == 200 and "from the reader" in out, out
    # an error reads as the server's error body
    status, out = try_it(d, publish, {"channel": "no spaces allowed"}, '{"data": {}}')
    assert status == 400 and "bad_request" in out, out
    js(d, "document.getElementById(arguments[0]).scrollIntoView()", publish)
    screenshot(d, "api-docs")
