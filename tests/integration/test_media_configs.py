"""media/rtmp/ for MediaMTX (Docker) cannot run here: no Docker engine. These tests parse its
mediamtx.yml and docker-compose.yml and then play their hooks against the real golive-api the
way MediaMTX v1.21 would (its commands run without a shell; it splits them like a shell and
substitutes $VARS itself), so a renamed route or field breaks them."""

import os
import re
import shlex
import urllib.parse
import uuid

import yaml

from conftest import HOOK_SECRET, REPO, close_all, is_message, json_body, run

STACK_API = True

MEDIA = os.path.join(REPO, "media", "rtmp")
PINNED = "bluenviron/mediamtx:1.21.3-ffmpeg"


def load(name):
    with open(os.path.join(MEDIA, name)) as f:
        return yaml.safe_load(f)


def mediamtx_expand(word, env):
    """MediaMTX's expandEnv (Go os.Expand): $NAME and ${NAME}."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), word)


def wget_request(command, env):
    """The (url, headers, body) of a BusyBox wget hook command, after MediaMTX's expansion."""
    argv = [mediamtx_expand(w, env) for w in shlex.split(command)]
    assert argv[0] == "wget", argv
    headers, body, url, i = {}, None, None, 1
    while i < len(argv):
        a = argv[i]
        if a == "--header":
            k, _, v = argv[i + 1].partition(":")
            headers[k.strip()] = v.strip()
            i += 2
        elif a == "--post-data":
            body = argv[i + 1]
            i += 2
        elif a in ("-O",):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            url = a
            i += 1
    return url, headers, body


def to_stack(stack, url):
    """The docker-compose host golive:8080 is the test stack's nginx."""
    u = urllib.parse.urlsplit(url)
    assert u.netloc == "golive:8080", url
    return u.path + ("?" + u.query if u.query else "")


def test_mediamtx_yml_listens_where_the_seed_says_and_asks_golive():
    c = load("mediamtx.yml")
    assert c["rtmp"] is True and c["rtmpAddress"] == ":1935"
    assert c["hls"] is True and c["hlsAddress"] == ":8888"
    assert c["authMethod"] == "http"
    assert urllib.parse.urlsplit(c["authHTTPAddress"]).path == "/api/streaming/auth"
    # only watching skips the hook; publishing never does
    assert sorted(e["action"] for e in c["authHTTPExclude"]) == ["playback", "read"]
    assert c["pathDefaults"]["source"] == "publisher"
    assert "all_others" in c["paths"]
    with open(os.path.join(MEDIA, "mediamtx.yml")) as f:
        assert "v1.21.3" in f.read()


def test_docker_compose_pins_mediamtx_and_wires_the_secret():
    d = load("docker-compose.yml")
    mtx, golive = d["services"]["mediamtx"], d["services"]["golive"]
    assert mtx["image"] == PINNED
    assert "1935:1935" in mtx["ports"] and "8888:8888" in mtx["ports"]
    assert "./mediamtx.yml:/mediamtx.yml:ro" in mtx["volumes"]
    auth = mtx["environment"]["MTX_AUTHHTTPADDRESS"]
    assert auth.startswith("http://golive:8080/api/streaming/auth?secret=${GOLIVE_WEBHOOK_SECRET")
    assert mtx["environment"]["GOLIVE_WEBHOOK_SECRET"].startswith("${GOLIVE_WEBHOOK_SECRET")
    assert golive["environment"]["GOLIVE_WEBHOOK_SECRET"].startswith("${GOLIVE_WEBHOOK_SECRET")
    assert golive["environment"]["GOLIVE_MEDIA"] == "none"
    assert "8080:8080" in golive["ports"]
    dockerfile = os.path.join(MEDIA, golive["build"]["context"], golive["build"]["dockerfile"])
    assert os.path.exists(dockerfile)
    with open(dockerfile) as f:
        assert "tools/run-stack.sh" in f.read()


def test_mediamtx_auth_request_is_answered_by_golive(stack):
    c, d = load("mediamtx.yml"), load("docker-compose.yml")
    auth_url = mediamtx_expand(d["services"]["mediamtx"]["environment"]["MTX_AUTHHTTPADDRESS"]
                               .replace(":?set GOLIVE_WEBHOOK_SECRET", ""),
                               {"GOLIVE_WEBHOOK_SECRET": HOOK_SECRET})
    assert urllib.parse.urlsplit(auth_url).path == urllib.parse.urlsplit(
        c["authHTTPAddress"]).path
    sub = "u_" + uuid.uuid4().hex[:6]
    tok = stack.token(sub, permissions=["stream.create"])
    name = "mtx" + uuid.uuid4().hex[:6]
    k = json_body(stack.http("POST", "/api/streaming/keys", token=tok,
                             json={"stream_name": name}), 201)
    body = {"user": "", "password": "", "token": "", "ip": "172.18.0.1", "action": "publish",
            "path": f"live/{name}", "protocol": "rtmp", "id": str(uuid.uuid4()),
            "query": f"key={k['key']}"}
    assert stack.http("POST", to_stack(stack, auth_url), json=body).status_code == 200
    body["query"] = "key=sk_" + "9" * 64
    assert stack.http("POST", to_stack(stack, auth_url), json=body).status_code == 403
    # the placeholder in mediamtx.yml itself is not a working secret
    assert stack.http("POST", to_stack(stack, c["authHTTPAddress"]), json=body).status_code == 401


def test_mediamtx_hooks_announce_the_stream_through_golive(stack):
    c = load("mediamtx.yml")
    sub = "u_" + uuid.uuid4().hex[:6]
    tok = stack.token(sub, username="Erin", permissions=["stream.create"])
    name = "mtx" + uuid.uuid4().hex[:6]
    json_body(stack.http("POST", "/api/streaming/keys", token=tok, json={"stream_name": name}),
              201)
    env = {"MTX_PATH": f"live/{name}", "MTX_QUERY": "key%3Dsk_x", "MTX_SOURCE_TYPE": "rtmpConn",
           "MTX_SOURCE_ID": str(uuid.uuid4()), "GOLIVE_WEBHOOK_SECRET": HOOK_SECRET}
    channel = f"chat:stream_{name}"

    async def body():
        viewer = await stack.client(tok)
        await viewer.subscribe(channel)
        for hook, kind in (("runOnAvailable", "stream_started"),
                           ("runOnUnavailable", "stream_stopped")):
            url, headers, data = wget_request(c["pathDefaults"][hook], env)
            assert headers["Content-Type"] == "application/json"
            r = stack.http("POST", to_stack(stack, url), data=data.encode(), headers=headers)
            assert json_body(r)["changed"] is True, hook
            m = await viewer.recv_until(is_message(channel))
            assert m["data"]["type"] == kind and m["data"]["stream"] == name
        await close_all(viewer)

    run(body())
