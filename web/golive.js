// golive.js: the browser client for GoLive's WebSocket API (docs/protocol.md, docs/client.md).
// One connection, commands as promises matched by id, subscriptions that survive reconnects
// (resubscribe with `since` = the last id seen, de-duplicated by message id), reconnect with
// exponential backoff and full jitter. No dependencies; the pure parts are exported for tests.

export const DEFAULTS = Object.freeze({
  timeoutMs: 10000, // a command without a reply by then rejects with code "timeout"
  backoffBaseMs: 500,
  backoffCapMs: 30000,
  maxFrameBytes: 65536, // pushd's GOLIVE_MAX_MESSAGE_BYTES: bigger frames would close with 1009
});

// Events the server sends on its own (docs/protocol.md "Events"), re-emitted under their names.
const SERVER_EVENTS = new Set([
  "join", "leave", "message_deleted", "user_banned", "user_timeout", "user_unbanned",
  "chat_modes", "chat_cleared", "message_pinned", "message_unpinned", "message_held", "held_decided",
]);

/** Full-jitter backoff: a random delay in [0, min(cap, base * 2^attempt)), so that 20k clients
 *  dropped by one pushd restart do not come back in step. */
export function backoffDelay(attempt, { baseMs = DEFAULTS.backoffBaseMs, capMs = DEFAULTS.backoffCapMs } = {},
  random = Math.random) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** What a close code asks of the client (docs/protocol.md "Close codes"):
 *  "reconnect" with backoff, "auth" (4001: only with a new token), or "report" the code to the app
 *  and reconnect with backoff (1009 too big, 1002/1007 framing: our frames were wrong). */
export function closeAction(code) {
  if (code === 4001) return "auth";
  if (code === 1009 || code === 1002 || code === 1007) return "report";
  return "reconnect"; // 1000, 1001 (pushd stopping), 1006 (dropped), 4008 (slow consumer), others
}

const CLOSE_REASONS = {
  1002: "the server refused a frame as broken (protocol error)",
  1007: "the server refused a frame as invalid data",
  1009: "a message was too big for the server",
};

/** Per-channel bookkeeping of delivered message ids: remembers the newest id (the `since` of the
 *  next subscribe) and drops a message already seen. Remembers `window` recent ids; anything at or
 *  below the oldest forgotten one counts as seen. */
export class SeenIds {
  constructor(window = 2000) {
    this.window = window;
    this.lastId = 0; // newest id delivered
    this.forgottenUpTo = 0; // ids <= this were seen or are too old to show now
    this.recent = new Set();
  }

  /** Raise lastId without delivering (history the app loaded itself, a `since` it passed). */
  advance(id) {
    if (id > this.lastId) this.lastId = id;
    if (id > this.forgottenUpTo) this.forgottenUpTo = id;
  }

  /** true when id is new (and records it), false for a duplicate. */
  accept(id) {
    if (!Number.isSafeInteger(id) || id <= 0) return true; // not a row id: nothing to compare
    if (id <= this.forgottenUpTo || this.recent.has(id)) return false;
    this.recent.add(id);
    if (id > this.lastId) this.lastId = id;
    if (this.recent.size > this.window) {
      // ids of a channel arrive in order, so the first inserted is the oldest
      const oldest = this.recent.values().next().value;
      this.recent.delete(oldest);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, oldest);
    }
    return true;
  }
}

/** An error from the server ({code, message}) or from the client itself ("timeout",
 *  "disconnected", "too_large", "closed"). */
export class GoLiveError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = "GoLiveError";
    this.code = code;
    Object.assign(this, extra);
  }
}

/** Commands waiting for their reply, by id. A frame is a command's reply when it echoes the id and
 *  has the command's type (or "error"): events carry an `id` too (a message's row id), so ids are
 *  strings ("c1") that never look like one. */
export class PendingReplies {
  constructor({ setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.byId = new Map();
    this.next = 1;
  }

  newId() {
    return `c${this.next++}`;
  }

  /** A promise for the reply to the command (type, id); rejects with "timeout" after timeoutMs. */
  wait(id, type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = this.setTimer(() => {
        this.byId.delete(id);
        reject(new GoLiveError("timeout", `no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.byId.set(id, { type, resolve, reject, timer, sent: false });
    });
  }

  has(id) {
    return this.byId.has(id);
  }

  markSent(id) {
    const p = this.byId.get(id);
    if (p) p.sent = true;
  }

  /** Settle the command this frame answers; returns false when it answers none. */
  settle(frame) {
    const p = typeof frame.id === "string" ? this.byId.get(frame.id) : undefined;
    if (!p || (frame.type !== p.type && frame.type !== "error")) return false;
    this.byId.delete(frame.id);
    this.clearTimer(p.timer);
    if (frame.type === "error") {
      const e = frame.error || {};
      p.reject(new GoLiveError(e.code || "internal", e.message, { channel: frame.channel }));
    } else {
      p.resolve(frame.data);
    }
    return true;
  }

  /** Reject the commands already sent (their reply will never come on a new socket). */
  rejectSent(error) {
    for (const [id, p] of this.byId) {
      if (!p.sent) continue;
      this.byId.delete(id);
      this.clearTimer(p.timer);
      p.reject(error);
    }
  }

  rejectAll(error) {
    for (const p of this.byId.values()) {
      this.clearTimer(p.timer);
      p.reject(error);
    }
    this.byId.clear();
  }
}

function defaultUrl() {
  const loc = globalThis.location;
  if (!loc) throw new Error("golive: pass `url` (no window.location here)");
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/api/ws`;
}

function frameBytes(text) {
  return new TextEncoder().encode(text).length;
}

/**
 * The client. States: "idle" (not started), "connecting", "connected", "reconnecting" (waiting
 * for the next try), "unauthorized" (4001: waiting for getToken to give a new token), "closed".
 */
export class GoLiveClient {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url || defaultUrl();
    this.getToken = options.getToken || (() => null);
    this.WebSocketImpl = options.WebSocket || globalThis.WebSocket;
    this.setTimer = options.setTimeout || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout || ((t) => clearTimeout(t));
    this.random = options.random || Math.random;
    this.pending = new PendingReplies({ setTimer: this.setTimer, clearTimer: this.clearTimer });
    this.listeners = new Map();
    this.subscriptions = new Map(); // channel -> { seen: SeenIds, waiters: [{resolve, reject}] }
    this.queue = []; // commands waiting for the connection: { id, frame }
    this.state = "idle";
    this.user = null; // who the server says we are (connect reply), null when anonymous
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.refusedToken = undefined; // the token a 4001 refused
    this.lastClose = null;
  }

  // ---- events

  /** Listen to an event; returns a function that stops listening. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, detail) {
    for (const fn of [...(this.listeners.get(type) || [])]) {
      try {
        fn(detail);
      } catch (e) {
        // one broken listener must not stop the others or the client
        setTimeout(() => { throw e; });
      }
    }
  }

  setState(state, extra = {}) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit("state", { state, previous, ...extra });
  }

  // ---- connection

  /** Start (or restart at once, e.g. after a new sign-in) connecting. */
  connect() {
    if (this.state === "connecting" || this.state === "connected") return;
    this.clearRetry();
    this.open();
  }

  /** Close for good: pending commands reject with "closed", no reconnect. */
  close() {
    this.clearRetry();
    this.setState("closed");
    this.pending.rejectAll(new GoLiveError("closed", "the client was closed"));
    this.queue = [];
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
  }

  clearRetry() {
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  async open() {
    const token = await this.freshToken();
    if (token === undefined || this.state === "closed") return; // retry or wait already planned
    this.setState("connecting", { attempt: this.attempt });
    this.lastToken = token;
    let url = this.url;
    if (token && this.options.tokenIn === "query") {
      url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    }
    let ws;
    try {
      ws = new this.WebSocketImpl(url);
    } catch (e) {
      this.emit("error", new GoLiveError("unavailable", `cannot open ${url}: ${e && e.message}`));
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.handleOpen(ws, token);
    ws.onmessage = (ev) => this.handleFrame(ws, ev.data);
    ws.onclose = (ev) => this.handleClose(ws, ev.code, ev.reason);
    ws.onerror = () => {}; // a close event always follows, with the code
  }

  /** The token for the next try: getToken's answer, or undefined when there is none to try
   *  (getToken failed: backoff; it gave the token a 4001 refused: wait for a new one). */
  async freshToken() {
    let token;
    try {
      token = (await this.getToken()) || null;
    } catch (e) {
      this.emit("error", new GoLiveError("token", `getToken failed: ${e && e.message}`));
      this.scheduleRetry();
      return undefined;
    }
    if (this.state === "closed") return undefined;
    if (this.refusedToken !== undefined && token === this.refusedToken) {
      this.waitForToken();
      return undefined;
    }
    return token;
  }

  async handleOpen(ws, token) {
    if (ws !== this.ws) return;
    try {
      // connect without a token just answers who we are (null: anonymous)
      const withToken = token && this.options.tokenIn !== "query";
      const data = await this.sendNow(withToken ? { type: "connect", token } : { type: "connect" });
      this.user = data.user || null;
    } catch (e) {
      return; // a refused token closes with 4001: handleClose decides what next
    }
    if (ws !== this.ws) return;
    this.refusedToken = undefined;
    this.attempt = 0;
    this.setState("connected", { user: this.user });
    for (const channel of this.subscriptions.keys()) this.sendSubscribe(channel);
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) this.transmit(q.id, q.frame);
  }

  handleClose(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.lastClose = { code, reason };
    this.pending.rejectSent(new GoLiveError("disconnected",
      "the connection closed before the reply (the command may or may not have been done)",
      { closeCode: code }));
    if (this.state === "closed") return;
    const action = closeAction(code);
    if (action === "report") {
      this.emit("error", new GoLiveError(code === 1009 ? "too_large" : "protocol",
        CLOSE_REASONS[code], { closeCode: code, reason }));
    }
    if (action === "auth") {
      // the token was refused or expired: trying it again would loop (docs/protocol.md)
      this.refusedToken = this.lastToken;
      this.user = null;
      this.waitForToken(code);
      return;
    }
    this.scheduleRetry(code);
  }

  scheduleRetry(closeCode) {
    if (this.state === "closed") return;
    const delayMs = backoffDelay(this.attempt, {
      baseMs: this.options.backoffBaseMs, capMs: this.options.backoffCapMs }, this.random);
    this.attempt++;
    this.setState("reconnecting", { attempt: this.attempt, delayMs, closeCode });
    this.clearRetry();
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      this.open();
    }, delayMs);
  }

  /** After a 4001: ask getToken again on the backoff schedule, connect only with a new token
   *  (or call connect() when the app knows it has one). */
  waitForToken(closeCode) {
    const delayMs = backoffDelay(this.attempt, {
      baseMs: this.options.backoffBaseMs, capMs: this.options.backoffCapMs }, this.random);
    this.attempt++;
    this.setState("unauthorized", { closeCode, delayMs });
    this.clearRetry();
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      this.open(); // asks getToken again; comes back here while it gives the refused token
    }, delayMs);
  }

  // ---- frames

  handleFrame(ws, raw) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch (e) {
      return; // pushd sends JSON only; ignore anything else rather than fail
    }
    if (!frame || typeof frame !== "object") return;
    if (this.pending.settle(frame)) return;
    switch (frame.type) {
      case "message":
        return this.deliverMessage(frame);
      case "unsubscribed":
        this.subscriptions.delete(frame.channel);
        return this.emit("unsubscribed", frame);
      case "error":
        return this.emit("error", new GoLiveError(frame.error?.code || "internal",
          frame.error?.message, { channel: frame.channel, id: frame.id }));
      default:
        if (SERVER_EVENTS.has(frame.type)) this.emit(frame.type, frame);
    }
  }

  deliverMessage(frame) {
    const sub = this.subscriptions.get(frame.channel);
    // not subscribed (any more): a late frame after unsubscribe; seen: shown before a reconnect
    if (!sub || !sub.seen.accept(frame.id)) return;
    this.emit("message", frame);
  }

  // ---- commands

  /** Send now if connected (the connect command goes before anything else). */
  sendNow(frame) {
    const id = this.pending.newId();
    const reply = this.pending.wait(id, frame.type, this.options.timeoutMs);
    this.transmit(id, frame);
    return reply;
  }

  transmit(id, frame) {
    if (!this.pending.has(id)) return; // timed out while queued
    const text = JSON.stringify({ ...frame, id });
    if (frameBytes(text) > this.options.maxFrameBytes) {
      this.pending.settle({ type: "error", id, error: { code: "too_large",
        message: `command of ${frameBytes(text)} bytes is over the ${this.options.maxFrameBytes}-byte limit` } });
      return;
    }
    this.ws.send(text);
    this.pending.markSent(id);
  }

  /** Send when connected; until then the command waits (its timeout runs from now). */
  command(frame) {
    const id = this.pending.newId();
    const reply = this.pending.wait(id, frame.type, this.options.timeoutMs);
    if (this.state === "connected") {
      this.transmit(id, frame);
    } else {
      if (this.state === "closed") {
        this.pending.settle({ type: "error", id, error: { code: "closed", message: "the client was closed" } });
      } else {
        this.queue.push({ id, frame });
      }
    }
    return reply;
  }

  /**
   * Subscribe; the subscription is kept across reconnects. `since`: the last id the app already
   * shows (from history), so that nothing between that and the subscription is missed. Resolves
   * with the reply's data ({channel, recovered, complete?, chat_modes, pinned?}); a reply with complete:false also
   * emits "gap".
   */
  subscribe(channel, { since } = {}) {
    if (this.subscriptions.has(channel)) {
      return Promise.reject(new GoLiveError("conflict", `already subscribed to ${channel}`));
    }
    const seen = new SeenIds();
    if (Number.isSafeInteger(since) && since >= 0) seen.advance(since);
    const sub = { seen, sinceGiven: Number.isSafeInteger(since), waiters: [] };
    this.subscriptions.set(channel, sub);
    const done = new Promise((resolve, reject) => sub.waiters.push({ resolve, reject }));
    if (this.state === "connected") this.sendSubscribe(channel);
    return done;
  }

  sendSubscribe(channel) {
    const sub = this.subscriptions.get(channel);
    const frame = { type: "subscribe", channel };
    if (sub.seen.lastId > 0 || sub.sinceGiven) frame.since = sub.seen.lastId;
    this.sendNow(frame).then((data) => {
      if (data.complete === false) this.emit("gap", { channel, recovered: data.recovered });
      this.emit("subscribed", { channel, ...data });
      for (const w of sub.waiters.splice(0)) w.resolve(data);
    }, (err) => {
      if (err.code === "disconnected" || err.code === "timeout") return; // retried on reconnect
      if (this.subscriptions.get(channel) === sub) this.subscriptions.delete(channel);
      if (sub.waiters.length) {
        for (const w of sub.waiters.splice(0)) w.reject(err);
      } else {
        // a resubscribe after a reconnect was refused (banned meanwhile, access revoked)
        this.emit("unsubscribed", { type: "unsubscribed", channel, reason: err.code, error: err });
      }
    });
  }

  /** Stop a subscription (kept no longer across reconnects). */
  async unsubscribe(channel) {
    const sub = this.subscriptions.get(channel);
    this.subscriptions.delete(channel);
    if (sub) for (const w of sub.waiters.splice(0)) w.reject(new GoLiveError("closed", "unsubscribed"));
    if (this.state !== "connected") return { channel };
    return this.command({ type: "unsubscribe", channel });
  }

  /** The last message id delivered on a subscribed channel (0 when none). */
  lastId(channel) {
    return this.subscriptions.get(channel)?.seen.lastId || 0;
  }

  publish(channel, data) {
    return this.command({ type: "publish", channel, data });
  }

  presence(channel) {
    return this.command({ type: "presence", channel });
  }

  /** Oldest first. opts: {limit, before, since}. */
  history(channel, opts = {}) {
    const frame = { type: "history", channel };
    for (const k of ["limit", "before", "since"]) if (opts[k] !== undefined) frame[k] = opts[k];
    return this.command(frame);
  }

  /** Resolves with the method's result. */
  async rpc(method, params) {
    const data = { method };
    if (params !== undefined) data.params = params;
    const reply = await this.command({ type: "rpc", data });
    return reply.result;
  }
}
