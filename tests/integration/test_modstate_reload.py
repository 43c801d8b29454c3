"""pushd keeps its moderation state when a reload cannot read it: the new state is built aside
and swapped in only once it loaded completely (pushd/modstate.c). The failure is a real one: the
bans table is renamed away with sqlite3 while the stack runs, so pushd's query for it fails."""

import sqlite3

from conftest import close_all, expect_error, json_body, run, unique_channel, wait_for

STACK_API = True


def rename_table(stack, old, new):
    conn = sqlite3.connect(stack.db_path, timeout=5)
    try:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
        conn.commit()
    finally:
        conn.close()


def test_failed_reload_keeps_bans(make_stack):
    stack = make_stack(api=True)
    ch = unique_channel()
    mod = stack.token("u_mod", username="moddy", role="moderator")
    bob_t = stack.token("u_bob", username="bob")
    r = stack.rest("POST", ch, "users", "u_bob", "ban", token=mod, json={"reason": "spam"})
    assert json_body(r, 200)["banned"] is True

    async def body():
        bob = await stack.client(bob_t)
        try:
            await bob.error({"type": "publish", "channel": ch, "data": {"n": 1}}, "forbidden")
            rename_table(stack, "channel_access", "channel_access_hidden")
            try:
                # Banning someone else makes golive-api send the `reload` op for the channel:
                # pushd reads the settings, fails on the access lists, and must keep bob's ban
                # (before the fix it had freed the channel's state and never read the bans).
                r = stack.rest("POST", ch, "users", "u_carol", "ban", token=mod,
                               json={"reason": "spam"})
                assert json_body(r, 200)["banned"] is True
                await bob.error({"type": "publish", "channel": ch, "data": {"n": 2}},
                                "forbidden")
                await bob.error({"type": "subscribe", "channel": ch}, "forbidden")
                wait_for(lambda: f"reload of {ch} failed" in stack.read_log("pushd"),
                         what="pushd logging the failed reload")
            finally:
                rename_table(stack, "channel_access_hidden", "channel_access")
            # Once the table is back a reload works again, and the ban is still the one stored.
            json_body(stack.rest("PUT", ch, "settings", token=mod, json={"max_history": 30}), 200)
            assert stack.read_log("pushd").count(f"reload of {ch} failed") == 1
            await bob.error({"type": "publish", "channel": ch, "data": {"n": 3}}, "forbidden")
            expect_error(stack.rest("POST", ch, "publish", token=bob_t,
                                    json={"data": {"n": 4}}), 403)
            assert stack.db_messages(ch) == []
        finally:
            await close_all(bob)

    run(body())
