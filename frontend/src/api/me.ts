/**
 * Who the page is signed in as (`GET /api/me`: the session cookie's subject, or null for a
 * guest). Asking never fails for a guest, so a guest's visit logs no error in the console.
 * Asked again whenever the page sets or clears its session (`SESSION_CHANGED`).
 */
import { callApi, SESSION_CHANGED } from './session';

export interface Me {
  /** null: a guest. */
  readonly subject: string | null;
  readonly roles: readonly string[];
}

export const GUEST: Me = { subject: null, roles: [] };

let known: Me | null = null;

/** What the server last said, if it has since the page (or its session) changed. */
export const knownMe = (): Me | null => known;

let asking: Promise<Me> | null = null;
const listeners = new Set<(me: Me) => void>();

function learn(me: Me): Me {
  const changed = known?.subject !== me.subject;
  known = me;
  if (changed) for (const listener of listeners) listener(me);
  return me;
}

/** Asks the server now (one request however many ask at once). */
export function fetchMe(): Promise<Me> {
  asking ??= callApi('/api/me', 'GET')
    .then((response) => response.json())
    .then((body: { subject: string | null; roles: string[] }) =>
      learn({ subject: body.subject, roles: body.roles }),
    )
    .finally(() => {
      asking = null;
    });
  return asking;
}

/** Told each time the page is found to be signed in as someone else (or no one). */
export function onMeChanged(listener: (me: Me) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells when the session cookie was set or cleared on this page. */
export function onSessionChanged(listener: () => void): () => void {
  const forget = () => {
    known = null;
    listener();
  };
  window.addEventListener(SESSION_CHANGED, forget);
  return () => window.removeEventListener(SESSION_CHANGED, forget);
}
