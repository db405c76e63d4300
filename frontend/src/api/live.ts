/** A ticket for the live server page, for a browser that is not on the server itself. */
import { ConnectionRefused } from '../realtime/ReconnectingSocket';
import { readableError } from './session';

export async function requestLiveTicket(metricsToken: string): Promise<string> {
  const response = await fetch('/api/ws-tickets', {
    method: 'POST',
    headers: { authorization: `Bearer ${metricsToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: '/api/live' }),
    credentials: 'same-origin',
  });
  if (response.ok) return ((await response.json()) as { ticket: string }).ticket;
  const reason = await readableError(response);
  if (response.status >= 400 && response.status < 500) throw new ConnectionRefused(reason);
  throw new Error(reason);
}
