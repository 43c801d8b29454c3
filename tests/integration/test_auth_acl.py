"""Authentication (JWT in header, query or connect) and channel access rules."""

import asyncio
import copy

import pytest

from conftest import (ANON_PRIVATE, DEFAULT_CONFIG, SECRET, close_all, is_message, make_token, run,
                      unique_channel)

# The seed's config, plus a read-only namespace and one capped at two clients.
STACK_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
STACK_CONFIG["namespaces"] += [
    {"name": "readonly", "max_clients": 0, "allow_publish": False},
    {"name": "small", "max_clients": 2, "allow_publish": True},
]
STACK_CONFIG["channels"] += [
    {"pattern": "announce:*", "namespace": "readonly", "private": False},
    {"pattern": "small:*", "namespace": "small", "private": False},
]


def stream_channel():
    return "chat:stream_" + unique_channel("x").split(":")[1]


# ---------------------------------------------------------------------------------------------
# Tokens


def bad_tokens():
    return {
        "wrong_secret": make_token("user_123", username="alice", secret="not-the-secret"),
        "alg_none": make_token("user_123", username="alice", alg="none"),
        "hs512": make_token("user_123", username="alice", alg="HS512"),
        "expired": make_token("user_123", username="alice", exp_delta=-120),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("how", ["header", "query", "connect"])
@pytest.mark.parametrize("kind", ["wrong_secret", "alg_none", "hs512", "expired", "garbage"])
def test_invalid_token_is_refused(stack, kind, how):
    token = bad_tokens()[kind]

    async def body():
        if how == "connect":
            c = await stack.client()
            await c.send({"type": "connect", "id": 1, "token": token})
        else:
            c = await stack.client(token, how=how)
        code, frames = await c.wait_closed(timeout=5)
        errors = [f for f in frames if f.get("type") == "error"]
        assert errors, f"no error frame before the close (frames: {frames})"
        assert errors[0]["error"]["code"] == "unauthorized", errors
        if how == "connect":
            assert errors[0].get("id") == 1, errors
        assert code == 4001, f"close code {code}, expected 4001 (frames: {frames})"

    run(body())


@pytest.mark.parametrize("how", ["header", "query", "connect"])
def test_valid_token_authenticates(stack, how):
    token = stack.token("u_carol", username="carol", role="streamer")

    async def body():
        if how == "connect":
            c = await stack.client()
            r = await c.ok({"type": "connect", "id": 1, "token": token})
            assert r == {"type": "connect", "id": 1, "data": {"user": {
                "id": "u_carol", "username": "carol", "role": "streamer"}}}, r
        else:
            c = await stack.client(token, how=how)
        try:
            # connect without a token: who am I
            r = await c.ok({"type": "connect", "id": 2})
            assert r["data"]["user"] == {"id": "u_carol", "username": "carol",
                                         "role": "streamer"}, r
            # a second authentication is refused, the connection stays
            await c.error({"type": "connect", "id": 3, "token": token}, "conflict")
            await c.assert_usable()
            # and publishing works as carol
            ch = unique_channel()
            await c.subscribe(ch)
            mid = await c.publish(ch, {"content": "hey"})
            ev = await c.recv_until(is_message(ch, mid))
            assert ev["user"]["id"] == "u_carol" and ev["user"]["username"] == "carol", ev
        finally:
            await c.close()

    run(body())


def test_connect_without_token_when_anonymous(stack):
    async def body():
        c = await stack.client()
        try:
            r = await c.ok({"type": "connect", "id": "who"})
            assert r == {"type": "connect", "id": "who", "data": {"user": None}}, r
            # anonymous may still authenticate afterwards
            r = await c.ok({"type": "connect", "token": stack.token("u_dan", username="dan")})
            assert r["data"]["user"]["id"] == "u_dan", r
        finally:
            await c.close()

    run(body())


def test_token_expiring_while_connected_closes_4001(stack):
    async def body():
        c = await stack.client(stack.token("u_short", username="short", exp_delta=2))
        try:
            await c.assert_usable()
            # (how soon after exp is not specified; pushd may check periodically)
            code, frames = await c.wait_closed(timeout=8)
            assert code == 4001, (code, frames)
        finally:
            await c.close()

    run(body())


# ---------------------------------------------------------------------------------------------
# Private channels


@pytest.mark.parametrize("sub,role", [
    ("user_123", "user"),        # allowed_users
    ("u_streamer", "streamer"),  # allowed_roles
    ("u_mod", "moderator"),      # allowed_roles (and a moderator)
    ("u_admin", "admin"),        # admin
])
def test_private_channel_admits(stack, sub, role):
    ch = stream_channel()

    async def body():
        c = await stack.client(stack.token(sub, username=sub, role=role))
        try:
            r = await c.subscribe(ch)
            assert r["data"]["channel"] == ch
            mid = await c.publish(ch, {"content": "inside"})
            ev = await c.recv_until(is_message(ch, mid))
            assert ev["data"] == {"content": "inside"}
            p = await c.ok({"type": "presence", "channel": ch})
            assert [u["id"] for u in p["data"]["users"]] == [sub], p
        finally:
            await c.close()

    run(body())


def test_private_channel_refuses_others(stack):
    ch = stream_channel()

    async def body():
        other = await stack.client(stack.token("user_999", username="mallory", role="user"))
        viewer = await stack.client(stack.token("user_1234", username="nearly", role="viewer"))
        anon = await stack.client()
        member = await stack.client(stack.token("user_123", username="alice"))
        try:
            await member.subscribe(ch)
            await other.error({"type": "subscribe", "channel": ch}, "forbidden")
            await viewer.error({"type": "subscribe", "channel": ch}, "forbidden")
            await anon.error({"type": "subscribe", "channel": ch}, ANON_PRIVATE)
            await other.error({"type": "publish", "channel": ch, "data": {"x": 1}},
                              "forbidden")
            await anon.error({"type": "publish", "channel": ch, "data": {"x": 1}},
                             "unauthorized")
            # refused connections stay usable and see nothing of the channel
            for c in (other, viewer, anon):
                await c.assert_usable()
            await member.expect_no_message(pred=is_message(ch))
            assert not [m for m in other.seen + anon.seen if m.get("type") == "message"]
        finally:
            await close_all(other, viewer, anon, member)

    run(body())


def test_public_channel_anonymous_reads_but_cannot_publish(stack):
    ch = unique_channel()

    async def body():
        anon = await stack.client()
        user = await stack.client(stack.token("u_pub", username="pub"))
        try:
            await anon.subscribe(ch)
            await anon.error({"type": "publish", "channel": ch, "data": {"x": 1}},
                             "unauthorized")
            mid = await user.publish(ch, {"x": 2})
            ev = await anon.recv_until(is_message(ch, mid))
            assert ev["data"] == {"x": 2}
            assert len(stack.db_messages(ch)) == 1
            r = await anon.ok({"type": "presence", "channel": ch})
            assert r["data"]["anonymous"] == 1 and r["data"]["users"] == [], r
        finally:
            await close_all(anon, user)

    run(body())


def test_namespace_allow_publish_false(stack):
    ch = unique_channel("announce")

    async def body():
        user = await stack.client(stack.token("u_norm", username="norm", role="user"))
        mod = await stack.client(stack.token("u_mod", username="mod", role="moderator"))
        admin = await stack.client(stack.token("u_adm", username="adm", role="admin"))
        try:
            await user.subscribe(ch)  # reading is fine
            await user.error({"type": "publish", "channel": ch, "data": {"x": 1}}, "forbidden")
            assert stack.db_messages(ch) == []
            m1 = await mod.publish(ch, {"from": "mod"})
            m2 = await admin.publish(ch, {"from": "admin"})
            for mid in (m1, m2):
                await user.recv_until(is_message(ch, mid))
        finally:
            await close_all(user, mod, admin)

    run(body())


@pytest.mark.parametrize("perms,allowed", [
    (None, True),                              # no permissions claim: allowed
    (["chat.publish"], True),
    (["stream.create", "chat.publish"], True),
    (["stream.create"], False),
    ([], False),
])
def test_permissions_claim(stack, perms, allowed):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_perm", username="perm", permissions=perms))
        try:
            cmd = {"type": "publish", "channel": ch, "data": {"x": 1}}
            if allowed:
                await c.ok(cmd)
            else:
                await c.error(cmd, "forbidden")
                # subscribing does not need chat.publish
                await c.subscribe(ch)
        finally:
            await c.close()

    run(body())


def test_namespace_max_clients(stack):
    ch = unique_channel("small")

    async def body():
        cs = [await stack.client(stack.token(f"u_small{i}", username=f"s{i}")) for i in range(3)]
        try:
            await cs[0].subscribe(ch)
            await cs[1].subscribe(ch)
            await cs[2].error({"type": "subscribe", "channel": ch}, "rate_limited")
            await cs[2].assert_usable()
            # a place frees up
            await cs[0].ok({"type": "unsubscribe", "channel": ch})
            for _ in range(40):
                r = await cs[2].request({"type": "subscribe", "channel": ch})
                if r["type"] == "subscribe":
                    break
                assert r["error"]["code"] == "rate_limited", r
                await asyncio.sleep(0.05)
            assert r["type"] == "subscribe", r
        finally:
            await close_all(*cs)

    run(body())


def test_subscription_limit_per_connection(stack):
    async def body():
        c = await stack.client()
        try:
            base = unique_channel()
            cmds = [{"type": "subscribe", "id": i, "channel": f"{base}.{i}"} for i in range(129)]
            for cmd in cmds:
                await c.send(cmd)
            replies = {}
            while len(replies) < 129:
                m = await c.recv(timeout=5)
                if m.get("id") is not None:
                    replies[m["id"]] = m
            ok = [i for i, m in replies.items() if m["type"] == "subscribe"]
            bad = [m for m in replies.values() if m["type"] == "error"]
            assert len(ok) == 128, (len(ok), bad[:3])
            assert len(bad) == 1 and bad[0]["error"]["code"] == "rate_limited", bad
            assert bad[0]["id"] == 128, bad
        finally:
            await c.close()

    run(body(), timeout=30)


def test_wrong_secret_default_is_not_accepted(stack):
    """The insecure default secret must not work when JWT_SECRET is set."""
    assert SECRET != "change-me"
    token = make_token("user_123", username="alice", secret="change-me")

    async def body():
        c = await stack.client(token)
        code, frames = await c.wait_closed()
        assert code == 4001, (code, frames)

    run(body())
