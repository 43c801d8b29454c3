// The start page: live streams (GET /api/streaming/streams) and where to go from here.
import { currentSession, getJson } from "/app/session.js";
import { showWho } from "/app/who.js";

const session = currentSession();
showWho(document.getElementById("who"), session);

async function listLive() {
  const list = document.getElementById("live");
  const item = (text, href) => {
    const li = document.createElement("li");
    const node = document.createElement(href ? "a" : "span");
    node.textContent = text;
    if (href) node.href = href;
    li.append(node);
    return li;
  };
  try {
    const { status, body } = await getJson("/api/streaming/streams");
    const streams = status === 200 ? body.streams : [];
    list.replaceChildren(...(streams.length
      ? streams.map((s) => item(`${s.name} (by ${s.username || s.user_id})`, `/watch/${encodeURIComponent(s.name)}`))
      : [item("Nobody is live right now.")]));
  } catch (e) {
    list.replaceChildren(item("Could not read the live streams."));
  }
}

document.getElementById("go-watch").addEventListener("submit", (ev) => {
  ev.preventDefault();
  location.href = `/watch/${encodeURIComponent(new FormData(ev.target).get("name"))}`;
});
listLive();
setInterval(listLive, 15000);
