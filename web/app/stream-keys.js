// The streamer page's pure helpers (no DOM): who may stream by their token, and the streaming
// routes' refusals in words. The server decides; this only chooses what to say.

/** Whether the session's token says its holder may make stream keys (role streamer or admin, or
 *  permission stream.create), as POST /api/streaming/keys checks it. */
export function mayStream(session) {
  const perms = session?.claims?.permissions;
  return session?.role === "streamer" || session?.role === "admin" ||
    (Array.isArray(perms) && perms.includes("stream.create"));
}

/** A refused streaming call ({status, body}), in words. */
export function describeStreamError(status, body) {
  const said = body?.error?.message || "";
  switch (status) {
    case 0: return "Not done: the server could not be reached.";
    case 400: return `Not done: ${said || "the server did not accept that"}.`;
    case 401: return "Not done: your sign-in has expired or was refused. Open your sign-in link again.";
    case 403: return `Not done: your account may not stream (it needs the streamer role)${said ? ` (${said})` : ""}.`;
    case 404: return `Not done: ${said || "no such key of yours"}.`;
    case 409: return `Not done: ${said || "that stream name is taken or still has an active key"}.`;
    case 429: return `Slow down: ${said || "too many requests"}. Try again in a moment.`;
    default: return `Not done: ${said || `the server answered ${status}`}.`;
  }
}
