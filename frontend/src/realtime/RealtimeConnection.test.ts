import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SESSION_CHANGED } from '../api/session';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { RealtimeConnection, realtimeUrl } from './RealtimeConnection';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

let requests: { url: string; body: unknown }[];

function serverAnswers(answer: (url: string) => Response) {
  requests = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      requests.push({ url, body: init?.body ? JSON.parse(String(init.body)) : null });
      return answer(url);
    }),
  );
}

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('realtimeUrl', () => {
  it('connects a guest without asking for a ticket (no failing request to log)', async () => {
    serverAnswers(() => json(200, { subject: null, roles: [] }));
    expect(await realtimeUrl(null)).toBe('ws://localhost:3000/ws/realtime');
    expect(requests.map((request) => request.url)).toEqual(['/api/me']);
  });

  it('asks a signed-in user a fresh ticket for /ws/realtime, and gives the sender key back', async () => {
    serverAnswers((url) =>
      url === '/api/me'
        ? json(200, { subject: 'alice', roles: ['user'] })
        : json(201, { ticket: 'T1', endpoint: '/ws/realtime', expires_at: 0 }),
    );
    expect(await realtimeUrl('key-of-this-tab-0001')).toBe(
      'ws://localhost:3000/ws/realtime?ticket=T1&sender_key=key-of-this-tab-0001',
    );
    expect(requests[1]).toEqual({ url: '/api/ws-tickets', body: { endpoint: '/ws/realtime' } });
  });

  it('connects as a guest when the session is not one the server takes for a ticket', async () => {
    serverAnswers((url) =>
      url === '/api/me'
        ? json(200, { subject: 'alice', roles: ['user'] })
        : json(401, { detail: 'session cookie: token expired' }),
    );
    expect(await realtimeUrl(null)).toBe('ws://localhost:3000/ws/realtime');
  });
});

describe('RealtimeConnection', () => {
  it('connects again, with the new credential, when the page signs in or out', async () => {
    let attempt = 0;
    const realtime = new RealtimeConnection({ url: () => `ws://test/ws/realtime?n=${++attempt}` });
    const stop = realtime.follow('announcements');
    FakeWebSocket.latest().serverAccepts('realtime.json.v1');
    window.dispatchEvent(new Event(SESSION_CHANGED));
    expect(FakeWebSocket.instances.map((socket) => socket.url)).toEqual([
      'ws://test/ws/realtime?n=1',
      'ws://test/ws/realtime?n=2',
    ]);
    FakeWebSocket.latest().serverAccepts('realtime.json.v1');
    expect(FakeWebSocket.latest().sent.map((frame) => JSON.parse(String(frame)).type)).toEqual([
      'subscribe',
      'ping',
    ]);
    stop();
    await Promise.resolve();
    realtime.close();
    window.dispatchEvent(new Event(SESSION_CHANGED)); // closed: nothing more is opened
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('asks a fresh ticket for every attempt, also after the server refused a ticket', async () => {
    vi.useFakeTimers();
    let ticket = 0;
    const realtime = new RealtimeConnection({
      url: async () => `ws://test/ws/realtime?ticket=T${++ticket}`,
      random: () => 0.5,
    });
    realtime.follow('user:alice');
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.latest().serverCloses(1008, 'ticket expired or already used');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.instances.map((socket) => socket.url)).toEqual([
      'ws://test/ws/realtime?ticket=T1',
      'ws://test/ws/realtime?ticket=T2',
    ]);
    FakeWebSocket.latest().serverAccepts('realtime.json.v1');
    expect(realtime.getSnapshot().state.status).toBe('open');
    expect(JSON.parse(String(FakeWebSocket.latest().sent[0]))).toMatchObject({
      type: 'subscribe',
      channel: 'user:alice',
    });
    realtime.close();
    vi.useRealTimers();
  });

  it('tries again when a component follows after the connection was refused', async () => {
    const realtime = new RealtimeConnection({ url: () => 'ws://test/ws/realtime' });
    const first = realtime.follow('chat:general', { member: '7' });
    FakeWebSocket.latest().serverCloses(1008, 'origin not allowed');
    expect(realtime.getSnapshot().state).toMatchObject({ status: 'closed', why: 'refused' });
    first();
    const again = realtime.follow('chat:general', { member: '7' }); // before the leave is done
    expect(FakeWebSocket.instances).toHaveLength(2);
    again();
    await Promise.resolve();
    realtime.close();
  });

  it('opens the socket for a publish alone, and closes it once the publish is answered', async () => {
    const realtime = new RealtimeConnection({ url: () => 'ws://test/ws/realtime' });
    const publishing = realtime.publish('announcements', { text: 'hi' });
    expect(publishing.result).toBe('queued');
    const socket = FakeWebSocket.latest();
    socket.serverAccepts('realtime.json.v1');
    socket.serverSends(
      JSON.stringify({
        type: 'error',
        code: 'forbidden',
        detail: 'you may not publish to announcements',
        reply_to: publishing.id,
      }),
    );
    await expect(publishing).rejects.toMatchObject({ code: 'forbidden' });
    await Promise.resolve();
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'page closed' });
  });
});
