// Moderator tools inside the chat panel: a menu on each message (delete, pin, time out for
// 1 min / 10 min / 1 h, ban and unban, with a reason), and a "Moderation" view: the chat modes
// (slow mode, members-only, unique chat), clear chat and unpin, the messages held for review
// (approve, deny), the channel's current bans and timeouts and its audit log. Every action is a REST call with the session's
// token; the server decides who may moderate (docs/moderation.md "Who moderates"), and its
// refusals are shown in words. Text from users goes into the DOM with textContent only.

export const TIMEOUTS = [[60, "1 min"], [600, "10 min"], [3600, "1 h"]];
export const SLOW_MODES = [0, 3, 10, 30, 60, 120]; // seconds; 0 = off
const LOG_PAGE = 50;

/** Whether the session's token alone says its holder moderates every channel. A broadcaster or a
 *  channel moderator is known only to the server: the page turns the tools on for them. */
export function maySeeModTools(session) {
  const perms = session?.claims?.permissions;
  return Boolean(session?.isStaff || (Array.isArray(perms) && perms.includes("chat.moderate")));
}

/** The REST path of one of channel's routes (each part URL-encoded). */
export function channelPath(channel, ...parts) {
  return ["/api/realtime/channels", channel, ...parts].map((p, i) => (i ? encodeURIComponent(p) : p)).join("/");
}

/** A refused moderation call ({status, body}), in words. */
export function describeModError(status, body) {
  const said = body?.error?.message || "";
  switch (status) {
    case 0: return "Not done: the server could not be reached.";
    case 401: return "Not done: your sign-in has expired or was refused.";
    case 403: return `Not done: you may not moderate this chat${said ? ` (${said})` : ""}.`;
    case 404: return `Not done: ${said || "not found"}.`;
    case 429: return `Slow down: ${said || "too many requests"}.`;
    default: return `Not done: ${said || `the server answered ${status}`}.`;
  }
}

/** One moderation_log entry as a line of text. */
export function describeEntry(e) {
  const who = e.actor_name || e.actor_id;
  const target = e.target_user ? ` ${e.target_user}` : "";
  const what = {
    delete_message: `deleted message ${e.message_id}`,
    ban: `banned${target}`,
    unban: `unbanned${target}`,
    timeout: `timed out${target}${e.detail?.duration ? ` for ${durationLabel(e.detail.duration)}` : ""}`,
    settings: `changed the settings${settingsLabel(e.detail)}`,
    access_add: `gave${target} access`,
    access_remove: `took access from${target}`,
    broadcast: "broadcast a message",
    moderator_add: `made${target} a moderator`,
    moderator_remove: `removed${target} as moderator`,
    vip_add: `made${target} a VIP`,
    vip_remove: `removed${target} as VIP`,
    clear_chat: "cleared the chat",
    pin: `pinned message ${e.message_id}`,
    unpin: "unpinned the message",
    held_approve: `approved a held message of${target}`,
    held_deny: `denied a held message of${target}`,
  }[e.action] || `${e.action}${target}`;
  return `${who} ${what}${e.reason ? `: ${e.reason}` : ""}`;
}

/** What a settings change set, as ": slow_mode 10, unique_chat true" ("" when unknown). */
function settingsLabel(detail) {
  if (!detail || typeof detail !== "object") return "";
  const parts = Object.entries(detail).map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.length}]` : JSON.stringify(v)}`);
  return parts.length ? `: ${parts.join(", ")}` : "";
}

/** Seconds as "45 s", "10 min", "1 h", "2 h 30 min". */
export function durationLabel(secs) {
  if (secs < 60) return `${secs} s`;
  const h = Math.floor(secs / 3600), m = Math.round((secs % 3600) / 60);
  if (!h) return `${m} min`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, className, onClick) {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function timeOf(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * The tools for one panel. options: {channel, token, status (the panel's status line element),
 * head (where the "Moderation" button goes), log (the chat log the view stands in for)}.
 * Returns {decorate(li, msg), view (the element to add to the panel), enable()}.
 */
export function createModTools({ channel, token, status, head, log }) {
  let enabled = false;
  const decorated = new Set();

  async function call(method, parts, body, query) {
    const headers = { Authorization: `Bearer ${token()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let r;
    try {
      r = await fetch(channelPath(channel, ...parts) + (query ? `?${query}` : ""), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      return { ok: false, status: 0, body: null };
    }
    let json = null;
    try { json = await r.json(); } catch (e) { /* no JSON body */ }
    return { ok: r.ok, status: r.status, body: json };
  }

  function say(text, kind = "ok") {
    status.textContent = text;
    status.dataset.kind = kind;
    status.hidden = !text;
  }

  async function act(method, parts, body, done) {
    say("Working…", "info");
    const r = await call(method, parts, body);
    if (r.ok) say(done, "ok"); else say(describeModError(r.status, r.body), "error");
    if (r.ok && !view.hidden) refreshView();
    return r.ok;
  }

  // ---- the menu on each message

  function menuFor(li, msg) {
    const menu = el("div", "msg-menu");
    menu.hidden = true;
    const user = msg.user;
    const name = user ? user.username || user.id : "";
    const reasonRow = el("div", "msg-reason");
    reasonRow.hidden = true;
    const reason = el("input");
    Object.assign(reason, { name: "reason", maxLength: 500, placeholder: "Reason (optional)" });
    reason.setAttribute("aria-label", "Reason");
    const confirm = el("button", "msg-confirm");
    confirm.type = "button";
    const cancel = button("Cancel", "msg-cancel", () => { reasonRow.hidden = true; });
    reasonRow.append(reason, confirm, cancel);
    let pending = null;

    /** Ask for a reason, then run fn(reason) on confirm. */
    function ask(label, fn) {
      confirm.textContent = label;
      pending = fn;
      reasonRow.hidden = false;
      reason.value = "";
      reason.focus();
    }
    confirm.addEventListener("click", async () => {
      const fn = pending;
      if (!fn) return;
      const ok = await fn(reason.value.trim() || undefined);
      if (ok) { reasonRow.hidden = true; menu.hidden = true; }
    });
    reason.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); confirm.click(); } });

    const actions = el("div", "msg-actions");
    actions.append(button("Delete", "mod-delete", () =>
      act("DELETE", ["messages", String(msg.id)], undefined, "Message deleted.")),
    button("Pin", "mod-pin", () => act("PUT", ["pin"], { message_id: msg.id }, "Message pinned.")));
    if (user) {
      for (const [secs, label] of TIMEOUTS) {
        actions.append(button(`Timeout ${label}`, "mod-timeout", () =>
          ask(`Time out ${name} for ${label}`, (why) => act("POST", ["users", user.id, "timeout"],
            { duration: secs, reason: why }, `${name} is timed out for ${label}.`))));
      }
      actions.append(
        button("Ban", "mod-ban", () => ask(`Ban ${name}`, (why) =>
          act("POST", ["users", user.id, "ban"], { reason: why }, `${name} is banned.`))),
        button("Unban", "mod-unban", () =>
          act("DELETE", ["users", user.id, "ban"], undefined, `${name} may chat again.`)));
    }
    menu.append(actions, reasonRow);
    return menu;
  }

  function decorate(li, msg) {
    if (!enabled || decorated.has(li)) return;
    decorated.add(li);
    const menu = menuFor(li, msg);
    const toggle = button("⋯", "msg-mod-toggle", () => { menu.hidden = !menu.hidden; });
    toggle.title = "Moderate";
    toggle.setAttribute("aria-label", "Moderate this message");
    li.append(toggle, menu);
  }

  // ---- the Moderation view: current bans and timeouts, the audit log

  const view = el("section", "mod-view");
  view.hidden = true;
  const viewStatus = el("p", "mod-view-status");
  viewStatus.setAttribute("role", "status");
  viewStatus.hidden = true;
  const modesHead = el("h3", "", "Chat modes");
  const modes = el("div", "mod-modes");
  const slow = el("select", "mod-slow");
  slow.setAttribute("aria-label", "Slow mode");
  for (const secs of SLOW_MODES) {
    const o = el("option", "", secs ? `Slow mode ${secs} s` : "Slow mode off");
    o.value = String(secs);
    slow.append(o);
  }
  slow.addEventListener("change", () => act("PUT", ["settings"], { slow_mode: Number(slow.value) },
    Number(slow.value) ? `Slow mode: ${slow.value} s.` : "Slow mode is off."));
  function toggle(key, label) {
    const box = el("input", `mod-${key.replace("_", "-")}`);
    box.type = "checkbox";
    box.addEventListener("change", () => act("PUT", ["settings"], { [key]: box.checked },
      `${label} ${box.checked ? "on" : "off"}.`));
    const lab = el("label");
    lab.append(box, ` ${label}`);
    return [lab, box];
  }
  const [membersLabel, members] = toggle("members_only", "Members only");
  const [uniqueLabel, unique] = toggle("unique_chat", "Unique chat");
  const clear = button("Clear chat", "mod-clear", () => {
    if (clear.dataset.armed !== "true") { // one more click: clearing cannot be undone
      clear.dataset.armed = "true";
      clear.textContent = "Click again to clear";
      return;
    }
    clear.dataset.armed = "false";
    clear.textContent = "Clear chat";
    act("POST", ["clear"], undefined, "The chat was cleared.");
  });
  const unpin = button("Unpin", "mod-unpin", () => act("DELETE", ["pin"], undefined, "Unpinned."));
  modes.append(slow, membersLabel, uniqueLabel, clear, unpin);
  const heldHead = el("h3", "", "Held for review");
  const held = el("ul", "mod-held");
  const bansHead = el("h3", "", "Banned and timed out");
  const bans = el("ul", "mod-bans");
  const logHead = el("h3", "", "Moderation log");
  const entries = el("ol", "mod-log");
  const older = button("Older", "mod-older", () => loadLog(true));
  older.hidden = true;
  const refresh = button("Refresh", "mod-refresh", () => refreshView());
  view.append(refresh, viewStatus, modesHead, modes, heldHead, held, bansHead, bans, logHead, entries,
    older);
  let oldestEntry = 0;

  function viewError(text) {
    viewStatus.textContent = text;
    viewStatus.hidden = !text;
  }

  async function loadBans() {
    const r = await call("GET", ["bans"]);
    if (!r.ok) { viewError(describeModError(r.status, r.body)); return; }
    bans.replaceChildren(...(r.body.bans.length ? r.body.bans.map((b) => {
      const li = el("li", `mod-ban-${b.kind}`);
      li.dataset.userId = b.user_id;
      li.append(el("strong", "", b.user_id), " ",
        el("span", "mod-kind", b.kind === "ban" ? "banned" : `timed out until ${timeOf(b.expires_at)}`),
        el("span", "muted", ` by ${b.created_by}${b.reason ? `: ${b.reason}` : ""} `),
        button("Unban", "mod-unban", () =>
          act("DELETE", ["users", b.user_id, "ban"], undefined, `${b.user_id} may chat again.`)));
      return li;
    }) : [el("li", "muted", "Nobody is banned or timed out.")]));
  }

  async function loadModes() {
    let info = null;
    try {
      const r = await fetch(channelPath(channel), { headers: { Authorization: `Bearer ${token()}` } });
      if (r.ok) info = await r.json();
    } catch (e) { /* shown as unknown */ }
    const m = info?.chat_modes;
    if (!m) return;
    if (!SLOW_MODES.includes(m.slow_mode)) {
      const o = el("option", "", `Slow mode ${m.slow_mode} s`);
      o.value = String(m.slow_mode);
      slow.append(o);
    }
    slow.value = String(m.slow_mode);
    members.checked = m.members_only;
    unique.checked = m.unique_chat;
    unpin.hidden = !info.pinned;
  }

  async function loadHeld() {
    const r = await call("GET", ["held"]);
    if (!r.ok) { viewError(describeModError(r.status, r.body)); return; }
    held.replaceChildren(...(r.body.held.length ? r.body.held.map((h) => {
      const li = el("li", "mod-held-item");
      li.dataset.id = String(h.id);
      const text = typeof h.data?.content === "string" ? h.data.content : JSON.stringify(h.data);
      li.append(el("strong", "", h.username || h.user_id), " ", el("span", "msg-text", text),
        el("span", "muted", ` (matched “${h.term}”) `),
        button("Approve", "mod-approve", () => act("POST", ["held", String(h.id), "approve"], undefined,
          "Approved: the message is in the chat now.")),
        button("Deny", "mod-deny", () => act("POST", ["held", String(h.id), "deny"], undefined, "Denied.")));
      return li;
    }) : [el("li", "muted", "Nothing is waiting.")]));
  }

  async function loadLog(more) {
    const params = new URLSearchParams({ limit: String(LOG_PAGE) });
    if (more && oldestEntry) params.set("before", String(oldestEntry));
    const r = await call("GET", ["moderation_log"], undefined, params);
    if (!r.ok) { viewError(describeModError(r.status, r.body)); return; }
    const items = r.body.entries.map((e) => {
      const li = el("li", "mod-entry");
      li.dataset.id = String(e.id);
      li.dataset.action = e.action;
      li.append(el("time", "msg-time", timeOf(e.created_at)), el("span", "mod-entry-text", describeEntry(e)));
      return li;
    });
    if (more) entries.append(...items);
    else entries.replaceChildren(...(items.length ? items : [el("li", "muted", "Nothing yet.")]));
    if (r.body.entries.length) oldestEntry = r.body.entries[r.body.entries.length - 1].id;
    older.hidden = r.body.entries.length < LOG_PAGE;
  }

  async function refreshView() {
    viewError("");
    oldestEntry = 0;
    await Promise.all([loadModes(), loadHeld(), loadBans(), loadLog(false)]);
  }

  const tab = button("Moderation", "mod-toggle", () => {
    view.hidden = !view.hidden;
    log.hidden = !view.hidden;
    tab.setAttribute("aria-pressed", String(!view.hidden));
    tab.textContent = view.hidden ? "Moderation" : "Back to chat";
    delete tab.dataset.waiting;
    if (!view.hidden) refreshView();
  });
  tab.hidden = true;
  head.append(tab);

  return {
    view,
    decorate,
    /** Turn the tools on (and decorate the messages already shown: [li, msg] pairs). */
    enable(shownMessages = []) {
      if (enabled) return;
      enabled = true;
      tab.hidden = false;
      for (const [li, msg] of shownMessages) decorate(li, msg);
    },
    get enabled() { return enabled; },
    /** The review queue changed (a message_held or held_decided event): reread it when the view
     *  is open, else say so on the Moderation button and the status line. */
    heldChanged(newMessage) {
      if (!enabled) return;
      if (!view.hidden) { loadHeld(); return; }
      if (!newMessage) return;
      tab.dataset.waiting = "true";
      tab.textContent = "Moderation •";
      say("A message is waiting for review (Moderation).", "info");
    },
    /** Whether the server lets this token moderate the channel (a broadcaster, a channel
     *  moderator): a read only they may make. */
    async probe() {
      return (await call("GET", ["bans"])).ok;
    },
  };
}
