// Unit tests of web/golive.js with Node's built-in runner: `node --test tests/js/`.
// The pure parts directly; the client against a fake WebSocket and fake timers, so reconnects,
// close codes and resubscription run without a server.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  backoffDelay, closeAction, SeenIds, PendingReplies, GoLiveClient, GoLiveError,
} from "../../web/golive.js";

// ---- a fake clock and socket

class FakeTimers {
  constructor() { this.now = 0; this.timers = []; this.nextId = 1; }
  set = (fn, ms) => { const id = this.nextId++; this.timers.push({ id, at: this.now + ms, fn }); return id; };
  clear = (id) => { this.timers = this.timers.filter((t) => t.id !== id); };
  /** Run every timer due within ms, in time order. */
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.now = t.at;
      t.fn();
      await flush();
    }
    this.now = end;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function fakeSocketClass() {
  const sockets = [];
  class FakeSocket {
    constructor(url) { this.url = url; this.sent = []; this.closed = null; sockets.push(this); }
    send(text) { this.sent.push(JSON.parse(text)); }
    close(code) { this.closed = code; }
    // server side
    open() { this.onopen?.(); }
    push(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
    drop(code, reason = "") { this.onclose?.({ code, reason }); }
    last(type) { return [...this.sent].reverse().find((f) => f.type === type); }
    reply(type, data) { const f = this.last(type); this.push({ type, id: f.id, data }); return f; }
  }
  return { FakeSocket, sockets };
}

function makeClient(opts = {}) {
  const timers = new FakeTimers();
  const { FakeSocket, sockets } = fakeSocketClass();
  let token = "token" in opts ? opts.token : "tok-1";
  const states = [];
  const client = new GoLiveClient({
    url: "ws://test/api/ws", WebSocket: FakeSocket, setTimeout: timers.set,
    clearTimeout: timers.clear, random: () => 0.5, getToken: () => token, ...opts.options,
  });
  client.on("state", (s) => states.push(s.state));
  return { client, timers, sockets, states, setToken: (t) => { token = t; } };
}

/** Open the latest socket and answer its connect command. */
async function accept(sockets, user = { id: "u1", username: "alice", role: "user" }) {
  await flush();
  const ws = sockets.at(-1);
  ws.open();
  await flush();
  ws.reply("connect", { user });
  await flush();
  return ws;
}

// ---- backoff and close codes

test("backoff grows exponentially with full jitter and stops at the cap", () => {
  const top = (n) => backoffDelay(n, { baseMs: 500, capMs: 30000 }, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(top), [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
  assert.equal(backoffDelay(3, {}, () => 0), 0, "full jitter starts at zero");
  assert.equal(backoffDelay(1000, {}, () => 0.5), 15000, "huge attempts stay at the cap");
});

test("close codes: 4001 waits for a token, 1009/1002/1007 are reported, the rest reconnect", () => {
  assert.equal(closeAction(4001), "auth");
  for (const c of [1009, 1002, 1007]) assert.equal(closeAction(c), "report");
  for (const c of [1000, 1001, 1006, 4008, 1011]) assert.equal(closeAction(c), "reconnect");
});

// ---- de-duplication

test("SeenIds drops a repeated id and tracks the newest", () => {
  const s = new SeenIds();
  assert.equal(s.accept(5), true);
  assert.equal(s.accept(6), true);
  assert.equal(s.accept(5), false);
  assert.equal(s.lastId, 6);
});

test("SeenIds: ids up to a given since count as seen; old ids past the window too", () => {
  const s = new SeenIds(3);
  s.advance(10);
  assert.equal(s.accept(10), false);
  assert.equal(s.accept(9), false);
  for (const id of [11, 12, 13, 14]) assert.equal(s.accept(id), true);
  assert.equal(s.accept(11), false, "forgotten but at or below the window's floor");
  assert.equal(s.lastId, 14);
});

// ---- reply matching

test("replies are matched by id and type, in any order; an event with the same id is not a reply", async () => {
  const p = new PendingReplies();
  const a = p.newId(), b = p.newId();
  const ra = p.wait(a, "publish", 1000), rb = p.wait(b, "history", 1000);
  assert.equal(p.settle({ type: "message", id: a }), false, "a message event is not the reply");
  assert.equal(p.settle({ type: "history", id: b, data: { messages: [] } }), true);
  assert.equal(p.settle({ type: "publish", id: a, data: { message_id: 7 } }), true);
  assert.deepEqual(await rb, { messages: [] });
  assert.deepEqual(await ra, { message_id: 7 });
  assert.equal(p.settle({ type: "publish", id: a }), false, "settled once");
});

test("an error frame rejects with the server's code; a missing reply times out", async () => {
  const timers = new FakeTimers();
  const p = new PendingReplies({ setTimer: timers.set, clearTimer: timers.clear });
  const a = p.newId(), b = p.newId();
  const ra = p.wait(a, "publish", 1000), rb = p.wait(b, "presence", 1000);
  p.settle({ type: "error", id: a, channel: "x", error: { code: "forbidden", message: "you are banned" } });
  await assert.rejects(ra, (e) => e instanceof GoLiveError && e.code === "forbidden" && e.message === "you are banned");
  const timedOut = assert.rejects(rb, (e) => e.code === "timeout");
  await timers.advance(1000);
  await timedOut;
});

// ---- the client

test("connects with the token in a connect command, then sends queued commands", async () => {
  const { client, sockets } = makeClient();
  const pub = client.publish("public:a", { content: "hi" });
  client.connect();
  const ws = await accept(sockets);
  assert.deepEqual(ws.sent[0], { type: "connect", token: "tok-1", id: ws.sent[0].id });
  assert.equal(client.state, "connected");
  assert.equal(client.user.username, "alice");
  ws.reply("publish", { channel: "public:a", message_id: 3 });
  assert.deepEqual(await pub, { channel: "public:a", message_id: 3 });
});

test("tokenIn query puts the token in the URL", async () => {
  const { client, sockets } = makeClient({ options: { tokenIn: "query" } });
  client.connect();
  await flush();
  assert.equal(sockets[0].url, "ws://test/api/ws?token=tok-1");
});

test("after a drop it reconnects with backoff and resubscribes with since = last id seen, dropping duplicates", async () => {
  const { client, sockets, timers, states } = makeClient();
  const got = [];
  client.on("message", (m) => got.push(m.id));
  client.connect();
  let ws = await accept(sockets);
  const sub = client.subscribe("public:a", { since: 4 });
  await flush();
  assert.equal(ws.last("subscribe").since, 4);
  ws.reply("subscribe", { channel: "public:a", recovered: 0, complete: true });
  await sub;
  ws.push({ type: "message", channel: "public:a", id: 5, data: {} });
  ws.push({ type: "message", channel: "public:a", id: 6, data: {} });
  ws.drop(1006);
  assert.equal(client.state, "reconnecting");
  await timers.advance(250); // attempt 0: random 0.5 of 500 ms
  ws = await accept(sockets);
  assert.equal(sockets.length, 2);
  const resub = ws.last("subscribe");
  assert.equal(resub.since, 6);
  ws.push({ type: "subscribe", id: resub.id, data: { channel: "public:a", recovered: 2, complete: true } });
  ws.push({ type: "message", channel: "public:a", id: 6, data: {} }); // a duplicate
  ws.push({ type: "message", channel: "public:a", id: 7, data: {} });
  assert.deepEqual(got, [5, 6, 7]);
  assert.deepEqual(states, ["connecting", "connected", "reconnecting", "connecting", "connected"]);
});

test("a subscribe reply with complete:false raises gap", async () => {
  const { client, sockets } = makeClient();
  const gaps = [];
  client.on("gap", (g) => gaps.push(g));
  client.connect();
  const ws = await accept(sockets);
  client.subscribe("public:a", { since: 1 });
  await flush();
  ws.reply("subscribe", { channel: "public:a", recovered: 500, complete: false });
  await flush();
  assert.deepEqual(gaps, [{ channel: "public:a", recovered: 500 }]);
});

test("backoff delays grow across failed tries and reset after a good connection", async () => {
  const { client, sockets, timers, states } = makeClient();
  const delays = [];
  client.on("state", (s) => s.state === "reconnecting" && delays.push(s.delayMs));
  client.connect();
  await flush();
  sockets[0].drop(1006);
  await timers.advance(250);
  sockets[1].drop(1006);
  await timers.advance(500);
  sockets[2].drop(4008);
  assert.deepEqual(delays, [250, 500, 1000]);
  await timers.advance(1000);
  await accept(sockets);
  sockets[3].drop(1001);
  assert.equal(delays.at(-1), 250, "a connection that worked starts the backoff again");
  assert.ok(states.includes("connected"));
});

test("4001 does not reconnect with the same token, and does once getToken gives a new one", async () => {
  const { client, sockets, timers, setToken } = makeClient();
  client.connect();
  const ws = await accept(sockets);
  ws.drop(4001, "token expired");
  assert.equal(client.state, "unauthorized");
  await timers.advance(60000);
  assert.equal(sockets.length, 1, "no socket is opened for the refused token");
  assert.equal(client.state, "unauthorized");
  setToken("tok-2");
  await timers.advance(30000);
  assert.equal(sockets.length, 2);
  await accept(sockets);
  assert.equal(sockets[1].sent[0].token, "tok-2");
  assert.equal(client.state, "connected");
});

test("1009 is reported to the app and the client reconnects", async () => {
  const { client, sockets, timers } = makeClient();
  const errors = [];
  client.on("error", (e) => errors.push(e));
  client.connect();
  const ws = await accept(sockets);
  const pub = client.publish("public:a", { content: "x" });
  ws.drop(1009, "message too big");
  await assert.rejects(pub, (e) => e.code === "disconnected");
  assert.equal(errors[0].code, "too_large");
  assert.equal(errors[0].closeCode, 1009);
  await timers.advance(500);
  assert.equal(sockets.length, 2);
});

test("a command bigger than the frame limit is refused before it is sent", async () => {
  const { client, sockets } = makeClient({ options: { maxFrameBytes: 200 } });
  client.connect();
  const ws = await accept(sockets);
  await assert.rejects(client.publish("public:a", { content: "é".repeat(200) }), (e) => e.code === "too_large");
  assert.equal(ws.sent.filter((f) => f.type === "publish").length, 0);
});

test("server events are emitted; unsubscribed ends the subscription (no resubscribe)", async () => {
  const { client, sockets, timers } = makeClient();
  const seen = [];
  for (const t of ["join", "leave", "message_deleted", "user_banned", "user_timeout", "user_unbanned", "unsubscribed"]) {
    client.on(t, (e) => seen.push(e.type));
  }
  client.connect();
  let ws = await accept(sockets);
  client.subscribe("public:a");
  await flush();
  ws.reply("subscribe", { channel: "public:a", recovered: 0 });
  for (const t of ["join", "leave", "message_deleted", "user_banned", "user_timeout", "user_unbanned"]) {
    ws.push({ type: t, channel: "public:a" });
  }
  ws.push({ type: "unsubscribed", channel: "public:a", reason: "banned" });
  assert.deepEqual(seen, ["join", "leave", "message_deleted", "user_banned", "user_timeout", "user_unbanned", "unsubscribed"]);
  ws.drop(1006);
  await timers.advance(250);
  ws = await accept(sockets);
  assert.equal(ws.last("subscribe"), undefined);
});

test("a refused resubscribe after a reconnect ends the subscription with its reason", async () => {
  const { client, sockets, timers } = makeClient();
  const ends = [];
  client.on("unsubscribed", (e) => ends.push(e.reason));
  client.connect();
  let ws = await accept(sockets);
  client.subscribe("public:a");
  await flush();
  ws.reply("subscribe", { channel: "public:a", recovered: 0 });
  ws.drop(1001);
  await timers.advance(250);
  ws = await accept(sockets);
  const f = ws.last("subscribe");
  ws.push({ type: "error", id: f.id, channel: "public:a", error: { code: "forbidden", message: "banned" } });
  await flush();
  assert.deepEqual(ends, ["forbidden"]);
  assert.equal(client.lastId("public:a"), 0);
});

test("history, presence and rpc send their fields and resolve with the reply", async () => {
  const { client, sockets } = makeClient({ token: null });
  client.connect();
  const ws = await accept(sockets, null);
  assert.equal(ws.sent[0].token, undefined, "anonymous: connect without a token");
  assert.equal(client.user, null);
  const h = client.history("public:a", { limit: 20, before: 99 });
  const p = client.presence("public:a");
  const r = client.rpc("stats");
  await flush();
  assert.deepEqual({ ...ws.last("history"), id: 0 }, { type: "history", channel: "public:a", limit: 20, before: 99, id: 0 });
  ws.reply("rpc", { method: "stats", result: { total_clients: 2 } });
  ws.reply("presence", { channel: "public:a", users: [], anonymous: 1 });
  ws.reply("history", { channel: "public:a", messages: [] });
  assert.deepEqual(await r, { total_clients: 2 });
  assert.equal((await p).anonymous, 1);
  assert.deepEqual((await h).messages, []);
});

test("close() stops for good: pending commands reject and nothing reconnects", async () => {
  const { client, sockets, timers } = makeClient();
  client.connect();
  await accept(sockets);
  const p = client.presence("public:a");
  client.close();
  await assert.rejects(p, (e) => e.code === "closed");
  await timers.advance(60000);
  assert.equal(sockets.length, 1);
  assert.equal(client.state, "closed");
});
