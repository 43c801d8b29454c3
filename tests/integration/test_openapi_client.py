"""A client generated from docs/openapi.yaml works against the real stack: swagger-client
(Swagger's JavaScript client, pinned in tests/openapi-client/package-lock.json, installed from
the npm registry into build/openapi-client/) builds one from web/openapi.json and calls the API
by operationId: a publish lands in history, reads answer, a bad channel name is a 400 with the
error body."""
import filecmp
import json
import os
import shutil
import subprocess

import pytest

from conftest import REPO, unique_channel

STACK_API = True
SRC = os.path.join(REPO, "tests", "openapi-client")
DEST = os.path.join(REPO, "build", "openapi-client")
NPM = shutil.which("npm")


def install():
    """npm ci into build/openapi-client/ once per lockfile."""
    os.makedirs(DEST, exist_ok=True)
    lock = os.path.join(DEST, "package-lock.json")
    fresh = os.path.exists(os.path.join(DEST, "node_modules", "swagger-client")) and \
        os.path.exists(lock) and filecmp.cmp(lock, os.path.join(SRC, "package-lock.json"), False)
    for f in ("package.json", "package-lock.json", "client.mjs"):
        shutil.copy(os.path.join(SRC, f), DEST)
    if fresh:
        return
    out = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=DEST,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


@pytest.mark.skipif(NPM is None, reason="npm is not installed: the generated client comes "
                    "from the npm registry (swagger-client)")
def test_a_generated_client_calls_the_api_by_operation_id(stack):
    install()
    ch = unique_channel()
    out = subprocess.run(["node", os.path.join(DEST, "client.mjs"),
                          os.path.join(REPO, "web", "openapi.json"), stack.base_url,
                          stack.token("u_gen", username="gen"), ch],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    calls = [json.loads(line) for line in out.stdout.splitlines()]
    assert [c["op"] for c in calls] == ["publishMessage", "getHistory", "getChannel",
                                        "listChannels", "publishMessage"], calls
    published, history, info, channels, refused = calls
    assert published["status"] == 200 and published["body"]["channel"] == ch, published
    assert history["status"] == 200, history
    assert [m["data"]["content"] for m in history["body"]["messages"]] == \
        ["from a generated client"], history
    assert history["body"]["messages"][0]["id"] == published["body"]["id"]
    assert info["status"] == 200 and info["body"]["channel"] == ch, info
    assert channels["status"] == 200, channels
    assert refused["status"] == 400 and refused["body"]["error"]["code"] == "bad_request", refused
