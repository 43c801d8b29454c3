"""join/leave events stop once a channel has more subscribers than its namespace's
join_leave_max (default 1000): sending every join to every subscriber costs O(n²) frames as a big
stream's chat fills. The presence command still lists every user."""
import copy

from conftest import DEFAULT_CONFIG, is_event, run, unique_channel

STACK_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
STACK_CONFIG["namespaces"] += [{"name": "capped", "join_leave_max": 2},
                               {"name": "quiet", "join_leave_max": 0}]
STACK_CONFIG["channels"] += [{"pattern": "capped:*", "namespace": "capped"},
                             {"pattern": "quiet:*", "namespace": "quiet"}]


def test_joins_and_leaves_stop_past_join_leave_max(stack):
    ch = unique_channel("capped")

    async def body():
        a = await stack.client(stack.token("u_a", username="a"))
        b = await stack.client(stack.token("u_b", username="b"))
        c = await stack.client(stack.token("u_c", username="c"))
        try:
            await a.subscribe(ch)
            await b.subscribe(ch)  # 2 subscribers: at the cap, still announced
            await a.recv_until(is_event("join", ch, "u_b"), what="b's join")
            await c.subscribe(ch)  # 3 > 2: not announced
            await a.expect_no_message(within=0.5, pred=is_event("join", ch, "u_c"))
            p = await a.ok({"type": "presence", "channel": ch})
            assert {u["id"] for u in p["data"]["users"]} == {"u_a", "u_b", "u_c"}, p
            await c.ok({"type": "unsubscribe", "channel": ch})  # left a room of 3: not announced
            await a.expect_no_message(within=0.5, pred=is_event("leave", ch, "u_c"))
            await b.ok({"type": "unsubscribe", "channel": ch})  # a room of 2 again: announced
            await a.recv_until(is_event("leave", ch, "u_b"), what="b's leave")
        finally:
            for x in (a, b, c):
                await x.close()

    run(body())


def test_join_leave_max_0_sends_no_presence_events(stack):
    ch = unique_channel("quiet")

    async def body():
        a = await stack.client(stack.token("u_a", username="a"))
        b = await stack.client(stack.token("u_b", username="b"))
        try:
            await a.subscribe(ch)
            await b.subscribe(ch)
            await a.expect_no_message(within=0.5, pred=is_event("join", ch, "u_b"))
            p = await a.ok({"type": "presence", "channel": ch})
            assert {u["id"] for u in p["data"]["users"]} == {"u_a", "u_b"}, p
        finally:
            for x in (a, b):
                await x.close()

    run(body())
