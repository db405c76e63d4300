/** The live server page's recent disconnects and refusals, in the words the other pages use. */
import { namedCode } from '../realtime/closeCodes';

/** The server's refusal reasons (backend/app/vocabulary/refusals.py, RefusalReason). */
const REFUSAL_MEANING: Readonly<Record<string, string>> = {
  host: 'a host name this server does not answer to',
  origin: 'a page on another site',
  credentials: 'no credential, or one that was not accepted',
  invalid_request: 'a path or query the endpoint does not take',
  connection_cap: 'the server was at its connection limit',
  request_head: 'a request head that came too slowly or was too large',
  policy: 'refused by policy',
};

/** "credentials: no credential, …"; a reason this page does not know yet, readably. */
export function describeRefusal(reason: string): string {
  const meaning = REFUSAL_MEANING[reason];
  return meaning === undefined ? reason.replaceAll('_', ' ') : `${reason}: ${meaning}`;
}

// The server's label is a registered code, or "other" for any code outside the registry.
const DISCONNECT = /^(\d{4}|other) by (client|server)$/;

/** "1001 by client", as the server counts it, becomes "1001 going away, closed by the client". */
export function describeDisconnect(what: string): string {
  const match = DISCONNECT.exec(what);
  if (match === null) return what;
  const [, code = '', side] = match;
  const closed = code === 'other' ? 'a code outside the registry' : namedCode(Number(code));
  return `${closed}, closed by the ${side}`;
}
