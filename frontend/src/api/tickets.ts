/**
 * Single-use tickets (`POST /api/ws-tickets`): how a page opens a socket without putting a
 * long-lived credential in its URL. Asked for before every attempt, since each opens one socket.
 */
import { ConnectionRefused } from '../realtime/ReconnectingSocket';
import { request, Unreachable } from './http';
import { readableError } from './session';

/**
 * A ticket for the socket at `endpoint` (its path), asked for with the session cookie, or
 * with `bearer` as an `Authorization: Bearer` header. A refusal (no credential, a wrong one,
 * one without the role the endpoint needs) is a `ConnectionRefused`, which ends the retries;
 * any other failure is an `Error` that is tried again. Both say what happened in plain words.
 */
export async function requestTicket(endpoint: string, bearer?: string): Promise<string> {
  const headers: Record<string, string> = {};
  if (bearer !== undefined && bearer.trim() !== '') headers.authorization = `Bearer ${bearer}`;
  let response: Response;
  try {
    response = await request('/api/ws-tickets', 'POST', { endpoint }, headers);
  } catch (error) {
    if (error instanceof Unreachable) throw new Error(`no ticket: ${error.message}`);
    throw error;
  }
  if (response.ok) {
    const body: { ticket: string } = await response.json();
    return body.ticket;
  }
  const reason = `no ticket: ${await readableError(response)}`;
  if (response.status >= 400 && response.status < 500) throw new ConnectionRefused(reason);
  throw new Error(reason);
}
