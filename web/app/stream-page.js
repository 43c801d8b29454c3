// /stream: a signed-in streamer's page (issue 13). Create a stream key (POST /api/streaming/keys,
// optional stream name), shown once with what OBS asks for (Server = the RTMP URL, Stream Key);
// the list of the user's keys (GET /api/streaming/keys), active or revoked, each stream live or
// offline with a link to its /watch/<name> page, and Revoke (DELETE /api/streaming/keys/{id}).
// The server decides who may stream (role streamer/admin or permission stream.create); its
// refusals are shown in words. Text from the server goes into the DOM with textContent only.
import { currentSession, getJson, sendJson } from "/app/session.js";
import { describeStreamError, mayStream } from "/app/stream-keys.js";
import { showWho } from "/app/who.js";

const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const session = currentSession();
showWho($("who"), session);

function say(text, kind) {
  const p = $("status");
  p.hidden = !text;
  p.textContent = text || "";
  p.dataset.kind = kind || "ok";
}

const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...kids);
  return e;
};
const watchPath = (name) => `/watch/${encodeURIComponent(name)}`;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

async function copyField(id, button) {
  const input = $(id);
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch (e) {
    input.select(); // no clipboard API (plain http off localhost): the old way
    try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
  }
  button.textContent = ok ? "Copied" : "Select and copy it";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
}

function keyItem(k) {
  const li = el("li", { className: "key" });
  li.dataset.id = String(k.id);
  li.dataset.name = k.stream_name;
  li.dataset.active = String(Boolean(k.active));
  li.dataset.live = String(Boolean(k.live));
  const state = el("span", { className: "badge key-state", textContent: k.active ? "active" : "revoked" });
  state.dataset.active = String(Boolean(k.active));
  const live = el("span", { className: "badge stream-live", textContent: k.live ? "LIVE" : "offline" });
  live.dataset.live = String(Boolean(k.live));
  li.append(el("a", { className: "key-name", href: watchPath(k.stream_name), textContent: k.stream_name }),
    " ", state, " ", live,
    el("span", { className: "muted key-when", textContent: k.active ? ` made ${when(k.created_at)}`
      : ` revoked ${when(k.revoked_at)}` }));
  if (k.active) {
    const revoke = el("button", { type: "button", className: "revoke", textContent: "Revoke" });
    revoke.addEventListener("click", () => revokeKey(k, revoke));
    li.append(" ", revoke);
  }
  return li;
}

let listing = false;
async function listKeys() {
  if (!session.token || listing) return;
  listing = true;
  const list = $("keys");
  try {
    const { status, body } = await getJson("/api/streaming/keys", session.token);
    if (status === 200) {
      list.replaceChildren(...(body.keys.length ? body.keys.map(keyItem)
        : [el("li", { className: "muted", textContent: "No stream keys yet: create one above." })]));
    } else {
      list.replaceChildren(el("li", { className: "muted", textContent: describeStreamError(status, body) }));
    }
  } catch (e) {
    list.replaceChildren(el("li", { className: "muted", textContent: describeStreamError(0) }));
  } finally {
    listing = false;
  }
}

async function revokeKey(k, button) {
  if (button.dataset.armed !== "true") { // a second click confirms
    button.dataset.armed = "true";
    button.textContent = "Really revoke? (a stream on air is cut off)";
    return;
  }
  button.disabled = true;
  const { status, body } = await sendJson("DELETE", `/api/streaming/keys/${encodeURIComponent(k.id)}`, session.token);
  if (status === 200) say(`The key of “${k.stream_name}” is revoked: it opens nothing any more.`, "ok");
  else { say(describeStreamError(status, body), "error"); button.disabled = false; }
  if (status === 200 && $("obs").dataset.keyId === String(k.id)) $("obs").hidden = true;
  await listKeys();
}

$("new-key").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const name = form.stream_name.value.trim();
  const button = form.querySelector("button");
  button.disabled = true;
  say("");
  const { status, body } = await sendJson("POST", "/api/streaming/keys", session.token,
    name ? { stream_name: name } : {});
  button.disabled = false;
  if (status !== 201) {
    say(describeStreamError(status, body), "error");
    return;
  }
  const obs = $("obs");
  obs.dataset.keyId = String(body.id);
  $("rtmp-url").value = body.rtmp_url;
  $("stream-key").value = body.key;
  const a = $("new-watch");
  a.href = watchPath(body.stream_name);
  a.textContent = location.origin + watchPath(body.stream_name);
  obs.hidden = false;
  form.reset();
  say(`Stream key for “${body.stream_name}” created.`, "ok");
  await listKeys();
});

for (const b of document.querySelectorAll("[data-copy]")) {
  b.addEventListener("click", () => copyField(b.dataset.copy, b));
}

if (!session.token) {
  const p = $("signin");
  p.hidden = false;
  p.textContent = "Sign in to stream: open this page with your sign-in link (make run prints one for a demo streamer).";
  $("new-key").hidden = true;
  $("keys").replaceChildren(el("li", { className: "muted", textContent: "Signed in, you see your stream keys here." }));
} else {
  if (!mayStream(session)) {
    const p = $("signin");
    p.hidden = false;
    p.textContent = "Your sign-in does not say you may stream (role streamer, or permission stream.create): the server may refuse.";
  }
  listKeys();
  setInterval(listKeys, POLL_MS);
}
window.golive = { session, listKeys };
