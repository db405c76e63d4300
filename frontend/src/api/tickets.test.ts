import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionRefused } from '../realtime/ReconnectingSocket';
import { requestTicket } from './tickets';

const answer = (status: number, body: unknown) =>
  vi.fn(async () => new Response(JSON.stringify(body), { status }));

afterEach(() => vi.unstubAllGlobals());

describe('requestTicket', () => {
  it('asks for the endpoint, with the bearer token when there is one', async () => {
    const fetch = answer(201, { ticket: 'T', endpoint: '/api/live', expires_at: 1 });
    vi.stubGlobal('fetch', fetch);
    expect(await requestTicket('/api/live', 'operator-token')).toBe('T');
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe('/api/ws-tickets');
    expect(init.body).toBe('{"endpoint":"/api/live"}');
    expect(init.headers).toMatchObject({ authorization: 'Bearer operator-token' });
  });

  it('says a refusal in the server’s words, and ends the retries with it', async () => {
    vi.stubGlobal('fetch', answer(403, { detail: '/api/live needs the operator role' }));
    const refusal = requestTicket('/api/live', 'wrong');
    await expect(refusal).rejects.toBeInstanceOf(ConnectionRefused);
    await expect(refusal).rejects.toThrow('no ticket: /api/live needs the operator role');
  });

  it('says plainly that the server could not be reached, to be tried again', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    const failure = requestTicket('/items/foo/ws');
    await expect(failure).rejects.not.toBeInstanceOf(ConnectionRefused);
    await expect(failure).rejects.toThrow('no ticket: the server could not be reached');
  });

  it('tries again after a server error', async () => {
    vi.stubGlobal(
      'fetch',
      answer(503, { detail: 'tickets cannot be issued right now: try again' }),
    );
    const failure = requestTicket('/items/foo/ws');
    await expect(failure).rejects.not.toBeInstanceOf(ConnectionRefused);
    await expect(failure).rejects.toThrow(
      'no ticket: tickets cannot be issued right now: try again',
    );
  });
});
