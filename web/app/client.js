// The one GoLiveClient of a page, fed with the token of this tab's session.
import { GoLiveClient } from "/golive.js";
import { currentSession, signOut } from "/app/session.js";

/** {session, client, onSignInRefused}: after a refused token the page goes on as a guest. */
export function pageClient() {
  const session = currentSession();
  let token = session.token;
  const client = new GoLiveClient({ getToken: () => token });
  const onSignInRefused = () => {
    signOut();
    token = null; // a new token (none): the client reconnects, anonymously
  };
  return { session, client, onSignInRefused };
}
