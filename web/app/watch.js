// /watch/<stream name>: the HLS player (hls.js, or the browser's own HLS) and the stream's chat
// chat:stream_<name> beside it. Live/offline comes from GET /api/streaming/streams/<name>, read
// again when the chat announces a start or an end, and every 15 s.
import { mountChatPanel } from "/app/chat-panel.js";
import { pageClient } from "/app/client.js";
import { getJson } from "/app/session.js";
import { showWho } from "/app/who.js";

const STATE_POLL_MS = 15000;
const RETRY_PLAYLIST_MS = 3000; // nginx-rtmp writes the first playlist a few seconds after a start

const name = decodeURIComponent(location.pathname.replace(/^\/watch\//, "").replace(/\/$/, ""));
const channel = `chat:stream_${name}`;
const $ = (id) => document.getElementById(id);
const video = $("video");
let hls = null;
let playing = null; // the HLS URL being played
let retryTimer = null;

function stopPlayer() {
  clearTimeout(retryTimer);
  if (hls) hls.destroy();
  hls = null;
  playing = null;
  video.removeAttribute("src");
  video.load();
}

function play(url) {
  if (playing === url) return;
  stopPlayer();
  playing = url;
  if (window.Hls && window.Hls.isSupported()) {
    hls = new window.Hls({ liveDurationInfinity: true });
    hls.on(window.Hls.Events.ERROR, (_ev, data) => {
      if (!data.fatal) return;
      // the playlist may not exist yet (stream just started): try again while still live
      const again = playing;
      stopPlayer();
      retryTimer = setTimeout(() => refreshState().then(() => again && playing === null && play(again)),
        RETRY_PLAYLIST_MS);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url; // Safari plays HLS itself
  }
  video.play().catch(() => {}); // muted autoplay; the controls are there if the browser says no
}

function showState(stream, status) {
  const live = Boolean(stream && stream.live);
  const badge = $("stream-state");
  badge.textContent = live ? "LIVE" : "Offline";
  badge.dataset.live = String(live);
  document.body.dataset.live = String(live);
  $("stream-by").textContent = stream ? `by ${stream.username || stream.user_id}` : "";
  const offline = $("offline");
  offline.hidden = live;
  offline.textContent = status === 404 ? `There is no stream called “${name}” yet.`
    : live ? "" : `${name} is offline. The chat stays open.`;
  for (const [id, url] of [["hls-link", stream?.hls_url], ["dash-link", stream?.hls_url?.replace(/index\.m3u8$/, "index.mpd")]]) {
    const a = $(id);
    a.hidden = !(live && url);
    if (url) a.href = url;
  }
  if (live && stream.hls_url) play(stream.hls_url); else if (!live) stopPlayer();
}

async function refreshState() {
  try {
    const { status, body } = await getJson(`/api/streaming/streams/${encodeURIComponent(name)}`);
    showState(status === 200 ? body : null, status);
  } catch (e) {
    // the next poll tries again; the chat does not depend on it
  }
}

const { session, client, onSignInRefused } = pageClient();
showWho($("who"), session);
$("stream-name").textContent = name;
document.title = `${name} · GoLive`;
window.golive = { client, session };
window.golive.panel = mountChatPanel($("chat"), {
  client, channel, session, onSignInRefused, title: "Stream chat",
  onMessage: (msg) => {
    const type = msg.system && msg.data && msg.data.type;
    if (type === "stream_started" || type === "stream_stopped") refreshState();
  },
});
refreshState();
setInterval(refreshState, STATE_POLL_MS);
