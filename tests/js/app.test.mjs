// Unit tests of the web app's pure helpers (the DOM parts run in tests/integration/test_browser_*).
import { test } from "node:test";
import assert from "node:assert/strict";
import { messageText, describeSendError } from "../../web/app/chat-panel.js";
import { claimsOf } from "../../web/app/session.js";
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

test("claims are read from a token's payload (base64url), and nonsense gives null", () => {
  const payload = Buffer.from(JSON.stringify({ sub: "u1", username: "Zoë", role: "moderator" }))
    .toString("base64url");
  assert.deepEqual(claimsOf(`h.${payload}.s`), { sub: "u1", username: "Zoë", role: "moderator" });
  assert.equal(claimsOf("not-a-token"), null);
  assert.equal(claimsOf(null), null);
});
