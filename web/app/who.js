// The "signed in as" corner of the full pages, with a way out.
import { signOut } from "/app/session.js";

export function showWho(node, session) {
  if (!session.claims) {
    node.textContent = "guest";
    return;
  }
  node.textContent = `${session.name} (${session.role}) `;
  const out = document.createElement("a");
  out.href = "#";
  out.textContent = "sign out";
  out.addEventListener("click", (ev) => {
    ev.preventDefault();
    signOut();
    location.reload();
  });
  node.append(out);
}
