"""docs/openapi.yaml describes golive-api as it really answers.

- The file is valid OpenAPI 3.1: it validates against the official meta-schema, vendored as
  openapi-3.1-schema.json (the 2022-10-07 schemas/v3.1/schema.json of
  github.com/OAI/OpenAPI-Specification, commit 157a4c81, Apache-2.0), plus checks the meta-schema
  leaves out: every $ref resolves, operationIds are unique, every path parameter is declared,
  every operation has responses, every schema is a valid JSON Schema 2020-12.
- Its paths are exactly fcgi-api/route_table.c's routes, with the same methods.
- Every operation is driven against the real stack (nginx, golive-api, golive-pushd, SQLite)
  through a client that knows nothing but the spec (operationId -> method and path template):
  each reply's status must be declared for that operation, its Content-Type too, and its body
  must validate against the declared schema.
"""

import collections
import copy
import json
import os
import re
import urllib.parse
import uuid

import jsonschema
import pytest
import yaml

from conftest import HOOK_SECRET, REPO, unique_channel

STACK_API = True

SPEC_PATH = os.path.join(REPO, "docs", "openapi.yaml")
META_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi-3.1-schema.json")
ROUTE_TABLE = os.path.join(REPO, "fcgi-api", "route_table.c")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FOREIGN = "https://evil.example.net"
FORM = "application/x-www-form-urlencoded"
_UNSET = object()


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(spec):
    """(method, path, operation) of every operation of spec."""
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(spec, ref):
    """The node a local $ref ("#/a/b") names; KeyError when there is none."""
    if not ref.startswith("#/"):
        raise KeyError(f"{ref}: not a local reference")
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise KeyError(ref)
        node = node[part]
    return node


def deref(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(spec, node["$ref"])
    return node


def _walk(node, where="#"):
    yield where, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{where}/{i}")


def _schemas(spec):
    """(where, schema) of every schema object: components/schemas and those of parameters,
    headers and media types (nested schemas are checked with their parent)."""
    for name, s in spec.get("components", {}).get("schemas", {}).items():
        yield f"#/components/schemas/{name}", s
    for where, node in _walk(spec):
        if "/components/schemas/" in where or not isinstance(node, dict):
            continue
        if "schema" in node and isinstance(node["schema"], (dict, bool)) and (
                "in" in node or where.split("/")[-2] in ("content", "headers")
                or "/headers/" in where):
            yield where + "/schema", node["schema"]


def spec_problems(spec):
    """Everything wrong with spec as OpenAPI 3.1 (empty when it is valid)."""
    with open(META_PATH, encoding="utf-8") as f:
        meta = json.load(f)
    problems = [f"meta-schema: /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                for e in jsonschema.Draft202012Validator(meta).iter_errors(spec)]
    for where, node in _walk(spec):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                resolve(spec, node["$ref"])
            except KeyError:
                problems.append(f"{where}: $ref {node['$ref']} does not resolve")
    if problems:
        return problems  # the checks below assume a well-formed document
    seen_ids = collections.Counter()
    tags = {t["name"] for t in spec.get("tags", [])}
    for method, path, op in operations(spec):
        name = f"{method.upper()} {path}"
        op_id = op.get("operationId")
        if not op_id or not re.fullmatch(r"[a-z][A-Za-z0-9]*", op_id):
            problems.append(f"{name}: operationId {op_id!r} is missing or not camelCase")
        seen_ids[op_id] += 1
        for t in op.get("tags", []):
            if t not in tags:
                problems.append(f"{name}: tag {t!r} is not declared in tags")
        responses = op.get("responses") or {}
        if not any(re.fullmatch(r"[23]\d\d", s) for s in responses):
            problems.append(f"{name}: no success response")
        params = [deref(spec, p) for p in spec["paths"][path].get("parameters", [])
                  + op.get("parameters", [])]
        declared = {p["name"] for p in params if p.get("in") == "path"}
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        for p in sorted(in_template - declared):
            problems.append(f"{name}: path parameter {{{p}}} is not declared")
        for p in sorted(declared - in_template):
            problems.append(f"{name}: path parameter {p} is not in the path")
        for sec in op.get("security", spec.get("security", [])):
            for scheme in sec:
                if scheme not in spec.get("components", {}).get("securitySchemes", {}):
                    problems.append(f"{name}: security scheme {scheme} is not declared")
    problems += [f"operationId {i} is used {n} times" for i, n in seen_ids.items() if n > 1]
    for where, schema in _schemas(spec):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            problems.append(f"{where}: not a JSON Schema 2020-12: {e.message[:200]}")
        for sub_where, node in _walk(schema, where):
            if isinstance(node, dict) and "nullable" in node:
                problems.append(f"{sub_where}: nullable is OpenAPI 3.0; use type [.., \"null\"]")
    return problems


def route_table():
    """{(method, path)} of fcgi-api/route_table.c, as /api/<prefix>/<pattern>."""
    with open(ROUTE_TABLE, encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r'\{\s*"([a-z]+)",\s*"([A-Z]+)",\s*"([^"]+)",\s*api_route_\w+\s*\}', text)
    assert len(rows) == text.count("api_route_") - text.count("api_route_def") - \
        text.count("api_route_table"), "a row of the route table was not understood"
    return {(m.lower(), f"/api/{prefix}/{pattern}") for prefix, m, pattern in rows}


# ---- the document ---------------------------------------------------------------------------


def test_the_spec_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": "http://localhost:8080"}]
    assert spec_problems(spec) == []


def _broken(mutate):
    spec = load_spec()
    mutate(spec)
    return spec


def _drop_responses(s):
    del s["paths"]["/api/realtime/channels"]["get"]["responses"]


def _bad_ref(s):
    s["paths"]["/api/realtime/channels"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] = {"$ref": "#/components/schemas/NoSuchThing"}


def _twice_the_same_id(s):
    s["paths"]["/api/realtime/channels/{channel}"]["get"]["operationId"] = "listChannels"


def _undeclared_path_param(s):
    s["paths"]["/api/realtime/channels/{channel}"]["parameters"] = []


def _unknown_operation_key(s):
    s["paths"]["/api/realtime/channels"]["get"]["returns"] = "channels"


def _not_a_schema(s):
    s["components"]["schemas"]["Error"]["type"] = "struct"


def _nullable(s):
    s["components"]["schemas"]["ChannelInfo"]["properties"]["namespace"] = {
        "type": "string", "nullable": True}


def _openapi_3_0(s):
    s["openapi"] = "3.0.3"


@pytest.mark.parametrize("mutate", [_drop_responses, _bad_ref, _twice_the_same_id,
                                    _undeclared_path_param, _unknown_operation_key,
                                    _not_a_schema, _nullable, _openapi_3_0])
def test_the_validation_refuses_a_broken_spec(mutate):
    assert spec_problems(_broken(mutate)) != []


def test_the_spec_has_every_route_of_the_route_table_and_no_other():
    spec = load_spec()
    in_spec = {(m, p) for m, p, _ in operations(spec)}
    in_table = route_table()
    assert len(in_table) >= 37
    assert sorted(in_table - in_spec) == [], "routes golive-api serves that the spec lacks"
    assert sorted(in_spec - in_table) == [], "operations in the spec that golive-api lacks"


# ---- a client made from the spec ------------------------------------------------------------


class SpecClient:
    """Calls operations by operationId with nothing but the spec, and checks each reply against
    it. seen[operationId] holds the statuses each operation answered."""

    def __init__(self, stack, spec):
        self.stack = stack
        self.spec = spec
        self.ops = {op["operationId"]: (m, p, op) for m, p, op in operations(spec)}
        self.resolver = jsonschema.RefResolver.from_schema(spec)
        self.seen = collections.defaultdict(set)

    def _params(self, path, op):
        item = self.spec["paths"][path]
        return [deref(self.spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]

    def validate(self, schema, value, what):
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        errors = sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not errors, (f"{what}: {len(errors)} schema error(s), first at "
                            f"/{'/'.join(map(str, errors[0].absolute_path))}: "
                            f"{errors[0].message[:300]}\nbody: {json.dumps(value)[:800]}")

    def call(self, op_id, path=None, query=None, json=_UNSET, form=None, data=None,
             content_type=None, token=None, headers=None):
        """Send operation op_id: path fills the template's {names} (percent-encoded), query the
        declared query parameters (or the security schemes' query keys). Returns the response,
        checked against the spec."""
        method, template, op = self.ops[op_id]
        params = self._params(template, op)
        path = dict(path or {})
        names = set(re.findall(r"\{([^}]+)\}", template))
        assert names == set(path), f"{op_id} takes path parameters {sorted(names)}"
        url = template
        for k, v in path.items():
            url = url.replace("{" + k + "}", urllib.parse.quote(str(v), safe=""))
        allowed_query = {p["name"] for p in params if p["in"] == "query"} | {
            s["name"] for s in self.spec["components"]["securitySchemes"].values()
            if s.get("in") == "query"}
        for k in (query or {}):
            assert k in allowed_query, f"{op_id} has no query parameter {k}"
        body_types = set(op.get("requestBody", {}).get("content", {}))
        hdrs = dict(headers or {})
        if json is not _UNSET:
            assert "application/json" in body_types, f"{op_id} takes no JSON body"
        if form is not None:
            assert FORM in body_types, f"{op_id} takes no form"
            data = urllib.parse.urlencode(form)
            hdrs["Content-Type"] = FORM
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        kw = {} if json is _UNSET else {"json": json}
        r = self.stack.http(method.upper(), url, token=token, data=data, headers=hdrs,
                            params=query, **kw)
        self.check(op_id, r)
        if r.status_code < 400:
            # what the server took must be what the spec allows (the spec is not too strict)
            sent = (FORM, form) if form is not None else (
                ("application/json", json) if json is not _UNSET else (None, None))
            self.check_request(op_id, params, path, query or {}, *sent)
        return r

    def check_request(self, op_id, params, path, query, ctype, body):
        what = f"{op_id}: a request the server took"
        for p in params:
            where = {"path": path, "query": query}.get(p["in"], {})
            if p["name"] not in where:
                assert not p.get("required"), f"{what} lacks required {p['name']}"
                continue
            value = where[p["name"]]
            if deref(self.spec, p["schema"]).get("type") == "integer":
                value = int(value)
            self.validate(p["schema"], value, f"{what}: parameter {p['name']}")
        rb = self.ops[op_id][2].get("requestBody")
        if ctype is None:
            assert not (rb or {}).get("required"), f"{what} without a body, the spec needs one"
        else:
            self.validate(rb["content"][ctype]["schema"], body, f"{what}: body")

    def check(self, op_id, r):
        method, template, op = self.ops[op_id]
        what = f"{op_id} ({r.request.method} {r.request.url}) -> {r.status_code}"
        status = str(r.status_code)
        assert status in op["responses"], (f"{what}: status not declared "
                                           f"(declared: {sorted(op['responses'])}): {r.text[:300]}")
        resp = deref(self.spec, op["responses"][status])
        for name, h in resp.get("headers", {}).items():
            h = deref(self.spec, h)
            assert name in r.headers, f"{what}: no {name} header"
            value = r.headers[name]
            if h["schema"].get("type") == "integer" or deref(self.spec, h["schema"]).get(
                    "type") == "integer":
                assert re.fullmatch(r"\d+", value), f"{what}: {name}: {value!r}"
                value = int(value)
            self.validate(h["schema"], value, f"{what}: header {name}")
        content = resp.get("content", {})
        ctype = r.headers.get("Content-Type")
        if not content:
            assert not r.content, f"{what}: a body where the spec has none: {r.text[:200]}"
        else:
            norm = re.sub(r";\s*", "; ", ctype or "").lower()
            assert norm in content, f"{what}: Content-Type {ctype!r}, declared {sorted(content)}"
            schema = content[norm]["schema"]
            if norm.startswith("application/json"):
                self.validate(schema, r.json(), what)
            else:
                self.validate(schema, r.text, what)
        self.seen[op_id].add(r.status_code)

    def expect_seen(self, expected):
        """Each operation of expected answered at least each of its statuses so far."""
        missing = {op: sorted(st - self.seen[op]) for op, st in expected.items()
                   if st - self.seen[op]}
        assert not missing, f"statuses never answered: {missing}"


@pytest.fixture(scope="module")
def api(stack):
    return SpecClient(stack, load_spec())


@pytest.fixture(scope="module")
def who(stack):
    """Tokens: an admin, a moderator, plain users."""
    return {
        "admin": stack.token("adm_" + uuid.uuid4().hex[:6], role="admin"),
        "mod": stack.token("mod_" + uuid.uuid4().hex[:6], role="moderator"),
        "user": stack.token("u_" + uuid.uuid4().hex[:6]),
        "other": stack.token("o_" + uuid.uuid4().hex[:6]),
    }


def sub_of(token):
    import base64
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


BAD_TOKEN = "not.a.token"
BIG = "x" * 70000  # over GOLIVE_MAX_BODY_BYTES (65536), under nginx's 1 MiB


def publish(api, ch, token, content="hello", status=200):
    r = api.call("publishMessage", {"channel": ch}, json={"data": {"content": content}},
                 token=token)
    assert r.status_code == status, r.text
    return r.json()


# ---- every operation against the real stack -------------------------------------------------

CHANNELS = {"listChannels": {200, 401}, "getChannel": {200, 400, 401, 403},
            "getHistory": {200, 400, 401, 403}, "getPresence": {200, 400, 403},
            "publishMessage": {200, 202, 400, 401, 403, 413, 429},
            "broadcastMessage": {200, 400, 401, 403, 413}}


def test_channel_reads_and_publishing(api, who, stack):
    ch, private = unique_channel(), "chat:stream_" + uuid.uuid4().hex[:8]
    first = publish(api, ch, who["user"], "one")
    publish(api, ch, who["user"], "two")
    assert api.call("listChannels").status_code == 200
    assert api.call("listChannels", token=BAD_TOKEN).status_code == 401
    assert api.call("getChannel", {"channel": ch}).json()["last_message_id"] > first["id"] - 1
    assert api.call("getChannel", {"channel": "bad::name"}).status_code == 400
    assert api.call("getChannel", {"channel": private}).status_code == 401  # no token
    assert api.call("getChannel", {"channel": private}, token=who["user"]).status_code == 403
    assert api.call("getChannel", {"channel": ch}, token=BAD_TOKEN).status_code == 401
    msgs = api.call("getHistory", {"channel": ch}, query={"limit": 1}).json()["messages"]
    assert len(msgs) == 1 and msgs[0]["data"] == {"content": "two"}
    assert api.call("getHistory", {"channel": ch}, query={"since": 0}).status_code == 200
    assert api.call("getHistory", {"channel": ch}, query={"limit": 0}).status_code == 400
    assert api.call("getHistory", {"channel": ch},
                    query={"since": 1, "before": 5}).status_code == 400
    assert api.call("getHistory", {"channel": private}, token=who["user"]).status_code == 403
    assert api.call("getHistory", {"channel": ch}, token=BAD_TOKEN).status_code == 401
    assert api.call("getPresence", {"channel": ch}).status_code == 200
    assert api.call("getPresence", {"channel": private}, token=who["user"]).status_code == 403
    assert api.call("getPresence", {"channel": "a:"}).status_code == 400

    def pub(**kw):
        return api.call("publishMessage", {"channel": kw.pop("channel", ch)}, **kw).status_code
    assert pub(json={"data": {"content": "x"}}) == 401
    assert pub(json={"data": "not an object"}, token=who["user"]) == 400
    assert pub(json={"data": {"content": BIG}}, token=who["user"]) == 413
    assert pub(channel=private, json={"data": {}}, token=who["user"]) == 403

    def bc(**kw):
        return api.call("broadcastMessage", {"channel": ch}, **kw).status_code
    assert bc(json={"data": {"text": "maintenance"}}, token=who["mod"]) == 200
    assert bc(json={"data": {"text": "x"}}, token=who["user"]) == 403
    assert bc(json={"data": {"text": "x"}}) == 401
    assert bc(json={}, token=who["mod"]) == 400
    assert bc(json={"data": {"text": BIG}}, token=who["mod"]) == 413
    # history now holds a system message (user null, system true): the schema covers it
    assert api.call("getHistory", {"channel": ch}).json()["messages"][-1]["system"] is True

    # the chat modes' answers: slow mode 429, a long message 413, a blocked term held 202
    slow, held = unique_channel(), unique_channel()
    settings = api.call("updateSettings", {"channel": slow}, token=who["mod"],
                        json={"slow_mode": 60, "max_message_bytes": 40})
    assert settings.status_code == 200 and settings.json()["chat_modes"]["slow_mode"] == 60
    assert pub(channel=slow, json={"data": {"content": "y" * 50}}, token=who["user"]) == 413
    assert pub(channel=slow, json={"data": {"content": "first"}}, token=who["user"]) == 200
    r = api.call("publishMessage", {"channel": slow}, json={"data": {"content": "again"}},
                 token=who["user"])
    assert r.status_code == 429 and r.json()["error"]["retry_after_ms"] > 0
    api.call("updateSettings", {"channel": held}, token=who["mod"],
             json={"blocked_terms": ["forbidden*word"], "blocked_terms_action": "hold"})
    r = api.call("publishMessage", {"channel": held},
                 json={"data": {"content": "a forbiddenword here"}}, token=who["user"])
    assert r.status_code == 202 and r.json()["held"] is True
    api.expect_seen(CHANNELS)


MODERATION = {"deleteMessage": {200, 400, 401, 403, 404},
              "timeoutUser": {200, 400, 401, 403, 413}, "banUser": {200, 400, 401, 403},
              "unbanUser": {200, 401, 403, 404}, "listBans": {200, 401, 403},
              "getModerationLog": {200, 400, 401, 403}}


def test_moderation(api, who):
    ch = unique_channel()
    target = sub_of(who["other"])
    m = publish(api, ch, who["other"], "spam")
    publish(api, ch, who["other"], "more spam")

    def delete(mid, token=who["mod"]):
        return api.call("deleteMessage", {"channel": ch, "id": mid}, token=token).status_code
    assert delete(m["id"]) == 200
    assert delete(m["id"]) == 200  # again: changes nothing, still 200
    assert delete(m["id"], who["user"]) == 403
    assert delete(m["id"], None) == 401
    assert delete(m["id"] + 1000000) == 404
    assert delete("05") == 400

    def timeout(body, token=who["mod"], user=target):
        return api.call("timeoutUser", {"channel": ch, "user": user}, json=body,
                        token=token).status_code
    assert timeout({"duration": 600, "reason": "spam", "delete_messages": True}) == 200
    assert timeout({"duration": 0}) == 400
    assert timeout({"duration": 1.5}) == 400
    assert timeout({"duration": 60}, who["user"]) == 403
    assert timeout({"duration": 60}, None) == 401
    assert timeout({"duration": 60, "reason": BIG}) == 413
    assert publish(api, ch, who["other"], "while timed out", status=403)

    def ban(token=who["mod"], **kw):
        return api.call("banUser", {"channel": ch, "user": target}, token=token,
                        **kw).status_code
    assert ban() == 200  # no body
    assert ban(json={"reason": "harassment", "delete_messages": False}) == 200
    assert ban(json={"reason": "r" * 501}) == 400
    assert ban(json={"delete_messages": "yes"}) == 400
    assert ban(who["user"]) == 403
    assert ban(None) == 401

    def bans(token=who["mod"]):
        return api.call("listBans", {"channel": ch}, token=token)
    kinds = sorted(b["kind"] for b in bans().json()["bans"])
    assert kinds == ["ban", "timeout"]
    assert bans(who["user"]).status_code == 403
    assert bans(None).status_code == 401

    def log(token=who["mod"], **query):
        return api.call("getModerationLog", {"channel": ch}, token=token, query=query or None)
    entries = log().json()["entries"]
    assert {"delete_message", "timeout", "ban"} <= {e["action"] for e in entries}
    older = log(limit=1, before=entries[0]["id"]).json()["entries"]
    assert older == entries[1:2]
    assert log(limit=101).status_code == 400
    assert log(before=0).status_code == 400
    assert log(who["user"]).status_code == 403
    assert log(None).status_code == 401

    def unban(token=who["mod"]):
        return api.call("unbanUser", {"channel": ch, "user": target}, token=token).status_code
    assert unban(who["user"]) == 403
    assert unban(None) == 401
    assert unban() == 200
    assert unban() == 404
    api.expect_seen(MODERATION)


ACCESS = {"updateSettings": {200, 400, 401, 403, 413}, "addAccess": {200, 400, 401, 403},
          "removeAccess": {200, 401, 403, 404}}


def test_settings_and_access(api, who, stack):
    ch = unique_channel()

    def settings(body, token=who["mod"], **kw):
        return api.call("updateSettings", {"channel": ch}, json=body, token=token, **kw)
    info = settings({"private": True, "allowed_roles": ["vip"], "max_history": 20,
                     "allow_publish": True, "members_only": False, "unique_chat": False,
                     "max_message_length": 0, "blocked_terms": None,
                     "blocked_terms_action": None})
    assert info.status_code == 200 and info.json()["private"] is True
    assert settings({"private": None}).status_code == 200
    assert settings({"colour": "red"}).status_code == 400  # unknown keys are refused
    assert settings({}).status_code == 400
    assert settings({"slow_mode": 3601}).status_code == 400
    assert settings({"private": True}, who["user"]).status_code == 403
    assert settings({"slow_mode": 5}, None).status_code == 401
    assert settings({"blocked_terms": [BIG]}).status_code == 413

    def add(body, token=who["admin"]):
        return api.call("addAccess", {"channel": ch}, json=body, token=token).status_code
    assert add({"users": ["user_a", "user_b"]}) == 200
    assert add({"users": []}) == 400
    assert add({"users": ["user_c"]}, who["user"]) == 403
    assert add({"users": ["user_c"]}, None) == 401

    def remove(user, token=who["admin"]):
        return api.call("removeAccess", {"channel": ch, "user": user}, token=token).status_code
    assert remove("user_a") == 200
    assert remove("user_a") == 404
    assert remove("user_b", who["user"]) == 403
    assert remove("user_b", None) == 401
    api.expect_seen(ACCESS)


CHAT = {"clearChat": {200, 401, 403}, "pinMessage": {200, 400, 401, 403, 404},
        "unpinMessage": {200, 401, 403, 404}}


def test_clear_pin_and_unpin(api, who):
    ch = unique_channel()
    m = publish(api, ch, who["user"], "pin me")

    def pin(body, token=who["mod"]):
        return api.call("pinMessage", {"channel": ch}, json=body, token=token).status_code
    assert pin({"message_id": m["id"]}) == 200
    # the channel info now carries the pinned message in its message shape
    pinned = api.call("getChannel", {"channel": ch}).json()["pinned"]
    assert pinned["id"] == m["id"] and pinned["type"] == "message"
    assert pin({"message_id": m["id"] + 1000000}) == 404
    assert pin({"message_id": "one"}) == 400
    assert pin({"message_id": m["id"]}, who["user"]) == 403
    assert pin({"message_id": m["id"]}, None) == 401

    def unpin(token=who["mod"]):
        return api.call("unpinMessage", {"channel": ch}, token=token).status_code
    assert unpin(who["user"]) == 403
    assert unpin(None) == 401
    assert unpin() == 200
    assert unpin() == 404

    def clear(token=who["mod"]):
        return api.call("clearChat", {"channel": ch}, token=token)
    r = clear()
    assert r.status_code == 200 and r.json()["cleared"] == 1
    assert clear(who["user"]).status_code == 403
    assert clear(None).status_code == 401
    api.expect_seen(CHAT)


HELD = {"listHeld": {200, 400, 401, 403}, "approveHeld": {200, 400, 403, 404, 409},
        "denyHeld": {200, 401, 403, 409}}


def test_the_review_queue(api, who):
    ch = unique_channel()
    api.call("updateSettings", {"channel": ch}, token=who["mod"],
             json={"blocked_terms": ["spoiler"], "blocked_terms_action": "hold"})
    ids = [api.call("publishMessage", {"channel": ch}, json={"data": {"content": f"spoiler {i}"}},
                    token=who["user"]).json()["held_id"] for i in range(2)]

    def queue(token=who["mod"], **query):
        return api.call("listHeld", {"channel": ch}, token=token, query=query or None)
    assert [h["id"] for h in queue().json()["held"]] == ids
    assert queue(limit=201).status_code == 400
    assert queue(who["user"]).status_code == 403
    assert queue(None).status_code == 401

    def decide(op, hid, token=who["mod"]):
        return api.call(op, {"channel": ch, "id": hid}, token=token)
    r = decide("approveHeld", ids[0])
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert decide("approveHeld", ids[0]).status_code == 409
    assert decide("approveHeld", ids[1], who["user"]).status_code == 403
    assert decide("approveHeld", ids[1] + 1000000).status_code == 404
    assert decide("approveHeld", "x").status_code == 400
    assert decide("denyHeld", ids[1], None).status_code == 401
    assert decide("denyHeld", ids[1], who["user"]).status_code == 403
    r = decide("denyHeld", ids[1])
    assert r.status_code == 200 and r.json()["status"] == "denied"
    assert decide("denyHeld", ids[1]).status_code == 409
    api.expect_seen(HELD)


ROLES = {"listModerators": {200, 401, 403}, "addModerator": {200, 400, 401, 403},
         "removeModerator": {200, 403, 404}, "listVips": {200, 403},
         "addVip": {200, 403}, "removeVip": {200, 401, 404}}


def streamer(stack):
    sub = "st_" + uuid.uuid4().hex[:8]
    return sub, stack.token(sub, username=sub, permissions=["stream.create", "chat.publish"])


def test_channel_moderators_and_vips(api, who, stack):
    _, tok = streamer(stack)
    name = api.call("createStreamKey", token=tok, json={}).json()["stream_name"]
    ch = "chat:stream_" + name
    helper = sub_of(who["user"])

    for plural, add, remove, listing in (("moderators", "addModerator", "removeModerator",
                                          "listModerators"),
                                         ("vips", "addVip", "removeVip", "listVips")):
        def call(op, token=tok, user=helper):
            p = {"channel": ch} if op == listing else {"channel": ch, "user": user}
            return api.call(op, p, token=token)
        r = call(add)
        assert r.status_code == 200 and r.json()["added"] is True
        assert call(add).json()["added"] is False
        assert call(add, who["other"]).status_code == 403
        assert call(add, None).status_code == 401
        assert call(add, user="\x01").status_code == 400
        assert [e["user_id"] for e in call(listing).json()[plural]] == [helper]
        assert call(listing, who["other"]).status_code == 403
        assert call(listing, None).status_code == 401
        assert call(remove, who["other"]).status_code == 403
        assert call(remove, None).status_code == 401
        assert call(remove).status_code == 200
        assert call(remove).status_code == 404
    api.expect_seen(ROLES)


STREAMING = {"createStreamKey": {201, 400, 401, 403, 409, 413},
             "listStreamKeys": {200, 401, 403}, "revokeStreamKey": {200, 400, 401, 404},
             "streamAuthHook": {200, 302, 400, 401, 403},
             "streamWebhook": {200, 400, 401, 403, 404},
             "listStreams": {200, 401}, "getStream": {200, 400, 404}}


def test_streaming(api, who, stack):
    sub, tok = streamer(stack)
    _, rival = streamer(stack)
    name = "s" + uuid.uuid4().hex[:10]
    hook = {"X-GoLive-Secret": HOOK_SECRET}

    def create(body, token=tok):
        return api.call("createStreamKey", json=body, token=token)
    key = create({"stream_name": name}).json()
    assert create({"stream_name": name}, rival).status_code == 409
    assert create({"stream_name": "Not Valid"}).status_code == 400
    assert create({"stream_name": "x"}, who["user"]).status_code == 403
    assert create({}, None).status_code == 401
    assert create({"stream_name": name, "pad": BIG}).status_code == 413

    def keys(token=tok, **query):
        return api.call("listStreamKeys", token=token, query=query or None)
    assert [k["id"] for k in keys().json()["keys"]] == [key["id"]]
    assert keys(who["admin"], user_id=sub).json()["keys"][0]["stream_name"] == name
    assert keys(rival, user_id=sub).status_code == 403
    assert keys(None).status_code == 401

    def webhook(body, headers=hook, **kw):
        return api.call("streamWebhook", json=body, headers=headers, **kw)
    r = webhook({"event": "stream_started", "stream_key": key["key"], "user_id": sub})
    assert r.status_code == 200 and r.json()["changed"] is True
    assert webhook({"event": "stream_started", "stream": name}).json()["changed"] is False
    assert webhook({"event": "stream_started", "stream": name}, headers={}).status_code == 401
    assert webhook({"event": "stream_started", "stream": name},
                   headers={"X-GoLive-Secret": "wrong"}).status_code == 401
    assert webhook({"event": "stream_started", "stream": "nosuch" + name}).status_code == 404
    assert webhook({"event": "stream_paused", "stream": name}).status_code == 400
    assert webhook({"event": "stream_started", "stream": name,
                    "user_id": "someone_else"}).status_code == 403
    assert api.call("streamWebhook", data="event=x", content_type="text/plain",
                    headers=hook).status_code == 400
    live = api.call("listStreams").json()["streams"]
    assert name in [s["name"] for s in live]
    assert api.call("listStreams", token=BAD_TOKEN).status_code == 401
    assert api.call("getStream", {"name": name}).json()["live"] is True
    assert api.call("getStream", {"name": "nosuch" + name}).status_code == 404
    assert api.call("getStream", {"name": "Bad"}).status_code == 400
    # a stream's chat channel carries its stream
    info = api.call("getChannel", {"channel": "chat:stream_" + name}, token=who["admin"]).json()
    assert info["stream"]["name"] == name

    def auth(body, **kw):
        kw.setdefault("headers", hook)
        return api.call("streamAuthHook", json=body, **kw)
    assert auth({"action": "read", "path": "live/" + name}).json()["result"] == "open"
    assert auth({"action": "publish", "path": "live/" + name,
                 "query": "key=" + key["key"]}).status_code == 200
    assert auth({"action": "publish", "path": "live/" + name, "query": "key=sk_bad"}
                ).status_code == 403
    assert auth({"path": "live/" + name}).status_code == 400
    assert auth({"action": "read"}, headers={}).status_code == 401

    # nginx-rtmp's forms, the secret in the URL: the key as the name renames the stream (302)
    def rtmp(op, fields, **query):
        form = {"app": "live", "tcurl": "rtmp://127.0.0.1/live", "addr": "127.0.0.1"}
        form.update(fields)
        return api.call(op, form=form, query={"secret": HOOK_SECRET, **query})
    r = rtmp("streamWebhook", {"call": "publish_done", "name": name})
    assert r.status_code == 200 and r.json()["stream"]["live"] is False
    r = rtmp("streamAuthHook", {"call": "publish", "name": key["key"]})
    assert r.status_code == 302 and r.headers["Location"] == name
    assert rtmp("streamAuthHook", {"call": "update_publish", "name": name}).json()[
        "result"] == "publishing"
    assert rtmp("streamAuthHook", {"call": "publish", "name": name},
                relay="1").json()["result"] == "relay"
    assert rtmp("streamWebhook", {"call": "play", "name": name}).json()["result"] == "open"
    assert rtmp("streamWebhook", {"call": "record_done", "name": name}).status_code == 400
    assert rtmp("streamAuthHook", {"call": "publish", "name": "sk_" + "0" * 64}
                ).status_code == 403

    def revoke(kid, token=tok):
        return api.call("revokeStreamKey", {"id": kid}, token=token)
    assert revoke(key["id"], rival).status_code == 404
    assert revoke("abc").status_code == 400
    assert revoke(key["id"], None).status_code == 401
    r = revoke(key["id"])
    assert r.status_code == 200 and r.json()["already_revoked"] is False
    assert revoke(key["id"]).json()["already_revoked"] is True
    api.expect_seen(STREAMING)


OPS = {"getMetrics": {200, 401}, "getHealth": {200, 401, 403}, "getReadiness": {200}}


def test_operator_routes(api):
    r = api.call("getMetrics")
    assert r.status_code == 200 and "golive_api_" in r.text
    assert api.call("getMetrics", token=BAD_TOKEN).status_code == 401
    assert api.call("getHealth").text == "ok\n"
    assert api.call("getHealth", headers={"Authorization": "Basic abc"}).status_code == 401
    # a page of another origin is refused before anything else
    assert api.call("getHealth", headers={"Origin": FOREIGN}).status_code == 403
    assert api.call("getReadiness").text == "ready\n"
    api.expect_seen(OPS)


DOWN = {"getPresence": {503}, "getReadiness": {503}, "listChannels": {200},
        "publishMessage": {200}, "streamAuthHook": {503}, "streamWebhook": {503}}


def test_without_pushd_and_without_a_hook_secret(make_stack):
    """A stack whose golive-api has no GOLIVE_WEBHOOK_SECRET, its pushd stopped: live data is 503,
    writes still succeed ("pushed": false), the hooks are off (503)."""
    st = make_stack(env={"GOLIVE_WEBHOOK_SECRET": "", "GOLIVE_IPC_TIMEOUT_MS": "50"}, api=True)
    api = SpecClient(st, load_spec())
    tok = st.token("u_" + uuid.uuid4().hex[:6])
    ch = unique_channel()
    st.stop_pushd()
    assert api.call("getPresence", {"channel": ch}).status_code == 503
    r = api.call("getReadiness")
    assert r.status_code == 503 and r.text.startswith("not ready: ")
    assert api.call("listChannels").json()["live"] is False
    assert publish(api, ch, tok)["pushed"] is False
    assert api.call("streamAuthHook", json={"action": "read"}).status_code == 503
    assert api.call("streamWebhook", json={"event": "stream_started", "stream": "x"}
                    ).status_code == 503
    api.expect_seen(DOWN)
    st.start_pushd()


def test_the_scenarios_drive_every_operation():
    """Each operation of the spec is in some scenario above, with a success status."""
    covered = collections.defaultdict(set)
    for part in (CHANNELS, MODERATION, ACCESS, CHAT, HELD, ROLES, STREAMING, OPS, DOWN):
        for op, statuses in part.items():
            covered[op] |= statuses
    spec_ops = {op["operationId"]: op for _, _, op in operations(load_spec())}
    assert sorted(set(spec_ops) - set(covered)) == []
    for op, statuses in covered.items():
        assert any(200 <= s < 300 for s in statuses), f"{op}: no success case"
        declared = {int(s) for s in spec_ops[op]["responses"]}
        assert statuses <= declared, f"{op}: {sorted(statuses - declared)} not declared"


def test_a_wrong_schema_in_the_spec_is_caught(stack, who):
    """The checks can fail: a spec that says publish answers a string id refuses the real reply,
    one without its 401 refuses the status, one that wants a key publish does not need refuses
    the request the server took."""
    spec = load_spec()
    wrong = copy.deepcopy(spec)
    wrong["components"]["schemas"]["PublishResult"]["properties"]["id"] = {"type": "string"}
    client = SpecClient(stack, wrong)
    with pytest.raises(AssertionError, match="schema error"):
        client.call("publishMessage", {"channel": unique_channel()},
                    json={"data": {"content": "x"}}, token=who["user"])
    del wrong["paths"]["/api/realtime/channels/{channel}/publish"]["post"]["responses"]["401"]
    with pytest.raises(AssertionError, match="status not declared"):
        client.call("publishMessage", {"channel": unique_channel()},
                    json={"data": {"content": "x"}})
    strict = copy.deepcopy(spec)
    strict["components"]["schemas"]["PublishRequest"]["required"] = ["data", "priority"]
    with pytest.raises(AssertionError, match="a request the server took: body"):
        SpecClient(stack, strict).call("publishMessage", {"channel": unique_channel()},
                                       json={"data": {"content": "x"}}, token=who["user"])
