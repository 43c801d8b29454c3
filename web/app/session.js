// Signing in: GoLive does not own users. A site (or `make run`'s printed links) hands the page a
// JWT as ?token=...; we keep it in sessionStorage (this tab only) and take it out of the URL, so
// that it is not bookmarked, shared or sent as a Referer. Nothing here verifies the token: the
// server does; the claims are read only to show who you are and which tools to offer.

const KEY = "golive.token";

/** Move ?token= from the address bar into sessionStorage; return the stored token or null. */
export function takeToken() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    if (fromUrl) sessionStorage.setItem(KEY, fromUrl);
    else sessionStorage.removeItem(KEY); // ?token= empty: sign out
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** The token's claims ({sub, username, role, exp, permissions}), or null when there is none or
 *  it cannot be read. */
export function claimsOf(token) {
  if (!token) return null;
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch (e) {
    return null;
  }
}

/** Who is signed in, as the pages show it: {token, claims, role, name, isStaff}. */
export function currentSession() {
  const token = takeToken();
  const claims = claimsOf(token);
  const role = claims?.role || (claims ? "user" : "anonymous");
  return {
    token,
    claims,
    role,
    name: claims ? claims.username || claims.sub : null,
    // moderator tools (a later part of issue 13) hang off this
    isStaff: role === "moderator" || role === "admin",
    expired: Boolean(claims?.exp && claims.exp * 1000 < Date.now()),
  };
}

/** GET a REST route of this host; resolves with {status, body}. */
export async function getJson(path, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const r = await fetch(path, { headers });
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    // a web server's own error page: no JSON body
  }
  return { status: r.status, body };
}

/** A REST call with a JSON body (or none) and the token; resolves with {status, body}, status 0
 *  when the server could not be reached. */
export async function sendJson(method, path, token, json) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  } catch (e) {
    return { status: 0, body: null };
  }
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    // no JSON body
  }
  return { status: r.status, body };
}
