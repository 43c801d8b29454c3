// /embed/chat/<channel>: the chat panel alone, for sites with their own player (an <iframe>).
import { mountChatPanel } from "/app/chat-panel.js";
import { pageClient } from "/app/client.js";

const channel = decodeURIComponent(location.pathname.replace(/^\/embed\/chat\//, "").replace(/\/$/, ""));
const { session, client, onSignInRefused } = pageClient();
document.title = `${channel} · GoLive chat`;
window.golive = { client, session }; // for the site's own scripts and for tests
if (channel) {
  window.golive.panel = mountChatPanel(document.getElementById("chat"), { client, channel, session, onSignInRefused });
} else {
  document.getElementById("chat").textContent = "No channel: use /embed/chat/<channel>.";
}
