// The chat panel: one channel's history (scroll up for older), live messages, presence, a send
// box that shows the server's refusals, a reconnecting banner. Used by /watch/<name> and alone
// by /embed/chat/<channel>. User text only ever goes into the DOM as text (textContent).

import { createModTools, maySeeModTools } from "./mod-tools.js";

const PAGE = 50; // messages per history read (pushd caps at 100)
const PRESENCE_REFRESH_MS = 30000; // join/leave stop past join_leave_max: re-read now and then

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function timeOf(iso, seconds = false) {
  const d = new Date(iso);
  const opts = { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) };
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], opts);
}

/** What a message says, as plain text: chat messages carry `content`, system ones `text`. */
export function messageText(msg) {
  const data = msg.data || {};
  if (typeof data.content === "string") return data.content;
  if (typeof data.text === "string") return data.text;
  return JSON.stringify(data);
}

/** The channel's chat modes (docs/moderation.md "Chat modes") as one line, "" when all are off. */
export function describeModes(m) {
  if (!m) return "";
  const parts = [];
  if (m.slow_mode > 0) parts.push(`Slow mode: ${m.slow_mode} s`);
  if (m.members_only) parts.push("Members only");
  if (m.unique_chat) parts.push("Unique chat");
  if (m.max_message_length > 0) parts.push(`${m.max_message_length} characters at most`);
  return parts.join(" · ");
}

/** A refusal from the server (or the client), in words for the person who pressed Send. */
export function describeSendError(err) {
  const said = err.message && err.message !== err.code ? err.message : "";
  switch (err.code) {
    case "unauthorized": return "Sign in to chat.";
    case "forbidden": return `Not sent: ${said || "you may not chat here"}.`;
    case "rate_limited": return `Slow down: ${said || "too many messages"}.`;
    case "too_large": return "Not sent: your message is too long.";
    case "timeout":
    case "disconnected": return "Not sent: the connection dropped. If it does not appear, send it again.";
    case "unavailable": return `Not sent: the chat cannot store messages right now${said ? ` (${said})` : ""}.`;
    default: return `Not sent: ${said || err.code}.`;
  }
}

/**
 * Mount the panel into root. options: {client (a GoLiveClient, not yet connected or connected),
 * channel, session (from currentSession()), title, onMessage(msg) (every shown message, e.g.
 * stream started/ended), decorateMessage(li, msg) (a hook for more per-message tools)}.
 * Moderators (by role, chat.moderate, or as the server answers: a broadcaster, a channel
 * moderator) get mod-tools.js's menu on each message and a "Moderation" view.
 * Returns {element, reload(), enableModeration(), destroy()}.
 */
export function mountChatPanel(root, options) {
  const { client, channel, session } = options;
  const shown = new Map(); // message id -> <li>
  const shownMsgs = new WeakMap(); // <li> -> its message (for the moderator tools)
  const presence = new Map(); // user id -> username
  let anonymousCount = 0;
  let oldestId = 0;
  let atBeginning = false;
  let loadingOlder = false;
  let everConnected = false;
  let refusedUntil = 0; // a timeout of ours: sending is off until then
  const stops = [];

  const panel = el("section", "chat");
  panel.dataset.channel = channel;
  const head = el("header", "chat-head");
  const title = el("span", "chat-title", options.title || channel);
  const presenceBtn = el("button", "presence-toggle");
  presenceBtn.type = "button";
  const presenceCount = el("span", "presence-count", "0");
  presenceBtn.append(presenceCount, " here");
  const me = el("span", "chat-me");
  head.append(title, presenceBtn, me);
  const banner = el("div", "chat-banner");
  banner.hidden = true;
  banner.setAttribute("role", "status");
  const presenceList = el("ul", "presence-list");
  presenceList.hidden = true;
  const modesLine = el("p", "chat-modes");
  modesLine.hidden = true;
  const pinnedBar = el("div", "chat-pinned");
  pinnedBar.hidden = true;
  const log = el("ol", "chat-log");
  log.setAttribute("aria-live", "polite");
  const start = el("li", "chat-start", "Loading…");
  log.append(start);
  const form = el("form", "chat-send");
  form.hidden = true; // until the server says who we are
  const input = el("input");
  Object.assign(input, { name: "text", autocomplete: "off", placeholder: "Send a message" });
  input.setAttribute("aria-label", "Message");
  const send = el("button", "", "Send");
  send.type = "submit";
  form.append(input, send);
  const error = el("p", "chat-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const readonly = el("p", "chat-readonly");
  readonly.hidden = true;
  const modStatus = el("p", "mod-status");
  modStatus.setAttribute("role", "status");
  modStatus.hidden = true;
  const mod = createModTools({ channel, token: () => session?.token, status: modStatus, head, log });
  const notice = el("p", "chat-notice");
  notice.setAttribute("role", "status");
  notice.hidden = true;
  panel.append(head, banner, modesLine, pinnedBar, presenceList, log, mod.view, modStatus, notice,
    error, form, readonly);
  root.append(panel);

  presenceBtn.addEventListener("click", () => {
    presenceList.hidden = !presenceList.hidden;
    // guests come and go without join/leave events: count them again when someone looks
    if (!presenceList.hidden) refreshPresence();
  });

  // ---- who we are

  function enableModeration() {
    mod.enable([...shown.values()].map((li) => [li, shownMsgs.get(li)]));
    panel.dataset.moderator = "true";
  }

  let probed = false;
  function showWhoAmI() {
    const user = client.user;
    // the role the server verified: the moderator tools key off it
    panel.dataset.role = user ? user.role || "user" : "anonymous";
    if (user && session?.token && !mod.enabled) {
      if (user.role === "moderator" || user.role === "admin" || maySeeModTools(session)) {
        enableModeration();
      } else if (!probed) {
        // a broadcaster or a channel moderator is known only to the server: ask it once
        probed = true;
        mod.probe().then((yes) => yes && enableModeration());
      }
    }
    if (user) {
      me.textContent = `${user.username} (${user.role || "user"})`;
      form.hidden = false;
      readonly.hidden = true;
    } else {
      me.textContent = "guest";
      form.hidden = true;
      readonly.hidden = false;
      readonly.textContent = "You are reading as a guest: sign in to chat.";
    }
  }

  function showBanner(text, kind = "warn") {
    banner.textContent = text;
    banner.dataset.kind = kind;
    banner.hidden = !text;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  let modes = null;
  function showModes(m) {
    modes = m || null;
    const line = describeModes(modes);
    modesLine.textContent = line;
    modesLine.hidden = !line;
    if (modes && modes.max_message_length > 0) input.maxLength = modes.max_message_length;
    else input.removeAttribute("maxlength");
  }

  let pinnedId = 0;
  function showPinned(msg) {
    pinnedId = msg ? msg.id : 0;
    pinnedBar.hidden = !msg;
    if (!msg) { pinnedBar.replaceChildren(); return; }
    pinnedBar.dataset.id = String(msg.id);
    pinnedBar.replaceChildren(el("span", "pinned-label", "Pinned"),
      el("span", "msg-author", msg.user ? msg.user.username : ""), el("span", "msg-text", messageText(msg)));
  }

  function setSendingOff(reason) {
    input.disabled = send.disabled = Boolean(reason);
    if (reason) showError(reason);
  }

  // ---- messages

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  }

  function messageItem(msg) {
    const li = el("li", msg.system ? "msg system" : "msg");
    li.dataset.id = String(msg.id);
    if (msg.user) li.dataset.userId = msg.user.id;
    li.append(el("time", "msg-time", timeOf(msg.created_at)));
    if (!msg.system) li.append(el("span", "msg-author", msg.user ? msg.user.username : "?"));
    li.append(el("span", "msg-text", messageText(msg)));
    shownMsgs.set(li, msg);
    mod.decorate(li, msg);
    options.decorateMessage?.(li, msg);
    return li;
  }

  /** Insert in id order (history pages come older-first, live messages at the end). */
  function addMessage(msg) {
    if (shown.has(msg.id)) return false;
    const li = messageItem(msg);
    shown.set(msg.id, li);
    let after = log.lastElementChild;
    while (after && after.classList.contains("msg") && Number(after.dataset.id) > msg.id) {
      after = after.previousElementSibling;
    }
    if (after) after.after(li); else log.prepend(li);
    if (!oldestId || msg.id < oldestId) oldestId = msg.id;
    options.onMessage?.(msg);
    return true;
  }

  function removeMessage(id) {
    if (id === pinnedId) showPinned(null);
    const li = shown.get(id);
    if (!li) return;
    shown.delete(id);
    li.remove();
  }

  function showStart() {
    start.textContent = atBeginning ? "This is the beginning of the chat." : "Scroll up for older messages";
    log.prepend(start);
  }

  async function loadNewest() {
    const reply = await client.history(channel, { limit: PAGE });
    for (const m of reply.messages) addMessage(m);
    atBeginning = reply.messages.length < PAGE;
    showStart();
    log.scrollTop = log.scrollHeight;
    return reply.messages.length ? reply.messages[reply.messages.length - 1].id : 0;
  }

  async function loadOlder() {
    if (loadingOlder || atBeginning || !oldestId) return;
    loadingOlder = true;
    const before = log.scrollHeight - log.scrollTop;
    try {
      const reply = await client.history(channel, { limit: PAGE, before: oldestId });
      for (const m of reply.messages) addMessage(m);
      atBeginning = reply.messages.length < PAGE;
      showStart();
      log.scrollTop = log.scrollHeight - before; // keep the reader where they were
    } catch (e) {
      showBanner(`Could not load older messages: ${e.message}`);
    } finally {
      loadingOlder = false;
    }
  }

  log.addEventListener("scroll", () => { if (log.scrollTop < 40) loadOlder(); });
  start.addEventListener("click", loadOlder);

  // ---- presence

  function renderPresence() {
    presenceCount.textContent = String(presence.size + anonymousCount);
    presenceBtn.title = `${presence.size} signed in, ${anonymousCount} guests`;
    const items = [...presence.entries()].sort((a, b) => a[1].localeCompare(b[1]))
      .map(([id, name]) => { const li = el("li", "", name); li.dataset.userId = id; return li; });
    if (anonymousCount) items.push(el("li", "guests", `${anonymousCount} guest${anonymousCount > 1 ? "s" : ""}`));
    presenceList.replaceChildren(...items);
  }

  async function refreshPresence() {
    try {
      const p = await client.presence(channel);
      presence.clear();
      for (const u of p.users) presence.set(u.id, u.username);
      anonymousCount = p.anonymous || 0;
      renderPresence();
    } catch (e) {
      // presence is a nicety: the chat goes on without it
    }
  }

  // ---- live events

  const mine = (ev) => ev.channel === channel;
  const isMe = (userId) => client.user && client.user.id === userId;
  stops.push(
    client.on("message", (m) => {
      if (!mine(m)) return;
      const stick = nearBottom();
      if (addMessage(m) && stick) log.scrollTop = log.scrollHeight;
    }),
    client.on("message_deleted", (ev) => mine(ev) && removeMessage(ev.message_id)),
    client.on("subscribed", (ev) => {
      if (!mine(ev)) return;
      showModes(ev.chat_modes);
      showPinned(ev.pinned || null);
    }),
    client.on("chat_modes", (ev) => mine(ev) && showModes(ev.chat_modes)),
    client.on("message_pinned", (ev) => mine(ev) && showPinned(ev.message)),
    client.on("message_unpinned", (ev) => mine(ev) && showPinned(null)),
    client.on("message_held", (ev) => mine(ev) && mod.heldChanged(true)),
    client.on("held_decided", (ev) => mine(ev) && mod.heldChanged(false)),
    client.on("chat_cleared", (ev) => {
      if (!mine(ev)) return;
      for (const id of [...shown.keys()]) if (id <= ev.through_id) removeMessage(id);
      showNotice("A moderator cleared the chat.");
    }),
    client.on("join", (ev) => { if (mine(ev)) { presence.set(ev.user.id, ev.user.username); renderPresence(); } }),
    client.on("leave", (ev) => { if (mine(ev)) { presence.delete(ev.user.id); renderPresence(); } }),
    client.on("user_banned", (ev) => {
      if (!mine(ev)) return;
      for (const id of ev.message_ids || []) removeMessage(id);
      if (isMe(ev.user_id)) setSendingOff(`You are banned from this chat${ev.reason ? `: ${ev.reason}` : ""}.`);
    }),
    client.on("user_timeout", (ev) => {
      if (!mine(ev)) return;
      for (const id of ev.message_ids || []) removeMessage(id);
      if (!isMe(ev.user_id)) return;
      refusedUntil = Date.parse(ev.until) || 0;
      // a short timeout ends within the minute: say its second too
      const until = refusedUntil - Date.now() < 3600000 ? timeOf(ev.until, true) : timeOf(ev.until);
      setSendingOff(`You are timed out until ${until}${ev.reason ? `: ${ev.reason}` : ""}.`);
      const wait = refusedUntil - Date.now();
      if (wait > 0) setTimeout(() => { if (Date.now() >= refusedUntil) { setSendingOff(""); showError(""); } }, wait + 500);
    }),
    client.on("user_unbanned", (ev) => {
      if (mine(ev) && isMe(ev.user_id)) { refusedUntil = 0; setSendingOff(""); showError(""); }
    }),
    client.on("unsubscribed", (ev) => {
      if (!mine(ev)) return;
      const why = ev.reason === "banned" ? "you were banned from this chat"
        : ev.reason === "access_revoked" ? "this chat is private now" : (ev.error?.message || ev.reason);
      showBanner(`You no longer receive this chat: ${why}.`, "error");
      setSendingOff(ev.reason === "banned" ? "You are banned from this chat." : "You can no longer send messages here.");
    }),
    client.on("gap", (ev) => {
      if (!mine(ev)) return;
      showBanner("Some messages could not be recovered; the chat was reloaded.", "info");
      reload();
    }),
    client.on("state", (s) => {
      if (s.state === "connected") {
        showWhoAmI();
        if (everConnected) { showBanner(""); refreshPresence(); }
        everConnected = true;
      } else if (s.state === "reconnecting" || (s.state === "connecting" && everConnected)) {
        showBanner("Reconnecting… messages sent meanwhile will appear when the chat is back.");
      } else if (s.state === "unauthorized") {
        showBanner("Your sign-in was refused or has expired: reading as a guest. Open a new sign-in link to chat.", "error");
        options.onSignInRefused?.();
      }
    }),
  );
  const presenceTimer = setInterval(() => client.state === "connected" && refreshPresence(), PRESENCE_REFRESH_MS);

  // ---- sending

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    showError("");
    try {
      const r = await client.publish(channel, { content: text });
      input.value = "";
      showNotice(r && r.held ? "Your message is waiting for a moderator's review." : "");
    } catch (e) {
      showError(describeSendError(e));
    } finally {
      if (!refusedUntil || Date.now() >= refusedUntil) send.disabled = input.disabled;
      input.focus();
    }
  });

  // ---- start

  async function reload() {
    for (const li of shown.values()) li.remove();
    shown.clear();
    oldestId = 0;
    return loadNewest();
  }

  async function begin() {
    try {
      const lastId = await loadNewest();
      // since = the newest id shown: whatever comes between the read and the subscription is
      // replayed by pushd (since 0 for an empty channel)
      await client.subscribe(channel, { since: lastId });
      await refreshPresence();
      panel.dataset.ready = "true"; // history shown and live from here on (tests wait for it)
    } catch (e) {
      start.textContent = "";
      showBanner(e.code === "unauthorized" || e.code === "forbidden"
        ? `You cannot read this chat: ${e.message}.` : `The chat could not be loaded: ${e.message}.`, "error");
    }
  }

  client.connect();
  begin();

  return {
    element: panel,
    reload,
    /** Show the moderator tools (the page knows the user may moderate this chat). */
    enableModeration,
    destroy() {
      for (const stop of stops) stop();
      clearInterval(presenceTimer);
      client.unsubscribe(channel).catch(() => {});
      panel.remove();
    },
  };
}
