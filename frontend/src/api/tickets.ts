/**
 * Single-use tickets (`POST /api/ws-tickets`): how the page opens a socket without putting a
 * long-lived credential in its URL. Asked for before every attempt, since each opens one socket.
 */
import { ConnectionRefused } from '../realtime/ReconnectingSocket';
import { readableError } from './session';

/**
 * A ticket for the socket at `endpoint` (its path), asked for with the session cookie, or
 * with `bearer` as an `Authorization: Bearer` header. A refusal (no or bad credentials) is a
 * `ConnectionRefused`, which ends the retries; any other failure is tried again.
 */
export async function requestTicket(endpoint: string, bearer?: string): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bearer !== undefined && bearer.trim() !== '') headers.authorization = `Bearer ${bearer}`;
  const response = await fetch('/api/ws-tickets', {
    method: 'POST',
    headers,
    body: JSON.stringify({ endpoint }),
    credentials: 'same-origin',
  });
  if (response.ok) {
    const body: { ticket: string } = await response.json();
    return body.ticket;
  }
  const reason = await readableError(response);
  if (response.status >= 400 && response.status < 500) throw new ConnectionRefused(reason);
  throw new Error(reason);
}
