// Unit tests of the web app's pure helpers (the DOM parts run in tests/integration/test_browser_*).
import { test } from "node:test";
import assert from "node:assert/strict";
import { messageText, describeSendError, describeModes } from "../../web/app/chat-panel.js";
import { claimsOf } from "../../web/app/session.js";
import { describeStreamError, mayStream } from "../../web/app/stream-keys.js";
import { GoLiveError } from "../../web/golive.js";

test("a message shows its content, a system message its text, anything else as JSON", () => {
  assert.equal(messageText({ data: { content: "<b>hi</b>" } }), "<b>hi</b>");
  assert.equal(messageText({ system: true, data: { type: "stream_started", text: "alice is live" } }), "alice is live");
  assert.equal(messageText({ data: { n: 1 } }), '{"n":1}');
});

test("the server's refusals are told in words, with the server's own reason", () => {
  const said = (code, message) => describeSendError(new GoLiveError(code, message));
  assert.equal(said("forbidden", "you are timed out in this channel"), "Not sent: you are timed out in this channel.");
  assert.equal(said("unauthorized", "x"), "Sign in to chat.");
  assert.match(said("rate_limited", "too many"), /^Slow down/);
  assert.equal(said("too_large"), "Not sent: your message is too long.");
  assert.match(said("disconnected"), /connection dropped/);
});

test("the chat modes read as one line, empty when all are off", () => {
  const off = { slow_mode: 0, members_only: false, unique_chat: false, max_message_length: 0,
    max_message_bytes: 0, blocked_terms_action: "refuse" };
  assert.equal(describeModes(off), "");
  assert.equal(describeModes(null), "");
  assert.equal(describeModes({ ...off, slow_mode: 10, unique_chat: true, max_message_length: 300 }),
    "Slow mode: 10 s · Unique chat · 300 characters at most");
  assert.equal(describeModes({ ...off, members_only: true }), "Members only");
});

test("claims are read from a token's payload (base64url), and nonsense gives null", () => {
  const payload = Buffer.from(JSON.stringify({ sub: "u1", username: "Zoë", role: "moderator" }))
    .toString("base64url");
  assert.deepEqual(claimsOf(`h.${payload}.s`), { sub: "u1", username: "Zoë", role: "moderator" });
  assert.equal(claimsOf("not-a-token"), null);
  assert.equal(claimsOf(null), null);
});

test("moderation refusals and audit entries read as words", async () => {
  const { describeModError, describeEntry, durationLabel, channelPath, maySeeModTools } =
    await import("../../web/app/mod-tools.js");
  assert.equal(describeModError(403, { error: { code: "forbidden", message: "moderators only" } }),
    "Not done: you may not moderate this chat (moderators only).");
  assert.match(describeModError(401, null), /sign-in/);
  assert.equal(describeModError(0, null), "Not done: the server could not be reached.");
  assert.equal(describeEntry({ action: "timeout", actor_name: "Mod", target_user: "u1", detail: { duration: 600 },
    reason: "spam" }), "Mod timed out u1 for 10 min: spam");
  assert.equal(describeEntry({ action: "delete_message", actor_id: "m1", message_id: 7 }), "m1 deleted message 7");
  assert.equal(describeEntry({ action: "clear_chat", actor_id: "m1" }), "m1 cleared the chat");
  assert.equal(describeEntry({ action: "settings", actor_id: "m1", detail: { slow_mode: 10, blocked_terms: ["a", "b"] } }),
    "m1 changed the settings: slow_mode 10, blocked_terms [2]");
  assert.equal(describeEntry({ action: "pin", actor_id: "m1", message_id: 9 }), "m1 pinned message 9");
  assert.equal(describeEntry({ action: "held_approve", actor_id: "m1", target_user: "u2" }),
    "m1 approved a held message of u2");
  assert.equal(durationLabel(3), "3 s");
  assert.equal(durationLabel(5400), "1 h 30 min");
  assert.equal(channelPath("chat:stream_a b", "users", "u/1", "ban"),
    "/api/realtime/channels/chat%3Astream_a%20b/users/u%2F1/ban");
  assert.equal(maySeeModTools({ isStaff: false, claims: { permissions: ["chat.moderate"] } }), true);
  assert.equal(maySeeModTools({ isStaff: false, claims: { role: "user" } }), false);
});

test("the streamer page: who may stream, and the streaming routes' refusals in words", () => {
  assert.equal(mayStream({ role: "streamer", claims: {} }), true);
  assert.equal(mayStream({ role: "admin", claims: {} }), true);
  assert.equal(mayStream({ role: "user", claims: { permissions: ["stream.create"] } }), true);
  assert.equal(mayStream({ role: "user", claims: { permissions: "stream.create" } }), false);
  assert.equal(mayStream({ role: "anonymous", claims: null }), false);
  const err = (message) => ({ error: { code: "x", message } });
  assert.equal(describeStreamError(409, err("stream 'a' already has a key (id 1): revoke it first")),
    "Not done: stream 'a' already has a key (id 1): revoke it first.");
  assert.match(describeStreamError(403, err("needs stream.create")), /may not stream.*needs stream\.create/);
  assert.match(describeStreamError(401, null), /sign-in has expired/);
  assert.match(describeStreamError(429, err("too many requests")), /^Slow down: too many requests/);
  assert.match(describeStreamError(0), /could not be reached/);
  assert.equal(describeStreamError(500, null), "Not done: the server answered 500.");
});
