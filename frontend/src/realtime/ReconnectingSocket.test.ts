import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import type { Incoming } from './codec';
import {
  type ConnectionOptions,
  ConnectionRefused,
  ReconnectingSocket,
} from './ReconnectingSocket';
import { DEFAULT_BACKOFF } from './reconnectPolicy';

const JSON_V1 = 'realtime.json.v1';
const TEXT_V1 = 'realtime.text.v1';

let socket: ReconnectingSocket;
let received: Incoming[];

function start(options: Partial<ConnectionOptions> = {}) {
  received = [];
  socket = new ReconnectingSocket({
    url: () => 'ws://test/ws',
    onMessage: (message) => received.push(message),
    random: () => 0.5, // the middle of every jitter range: delays are predictable
    ...options,
  });
  socket.attach();
  socket.connect();
  return socket;
}

const state = () => socket.getSnapshot().state;
const latest = () => FakeWebSocket.latest();
const sentJson = (fake: FakeWebSocket) => fake.sent.map((data) => JSON.parse(String(data)));

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  socket.stop();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('connecting', () => {
  it('offers the JSON protocol first, then the text one', () => {
    start();
    expect(latest().protocols).toEqual([JSON_V1, TEXT_V1]);
    expect(state()).toEqual({ status: 'connecting', retry: 0 });
    latest().serverAccepts(JSON_V1);
    expect(state()).toEqual({ status: 'open', protocol: JSON_V1 });
  });

  it('asks for a fresh URL at each attempt', () => {
    let attempt = 0;
    start({ url: () => `ws://test/ws?token=t${++attempt}` });
    latest().serverCloses(1006);
    vi.runOnlyPendingTimers();
    expect(FakeWebSocket.instances.map((fake) => fake.url)).toEqual([
      'ws://test/ws?token=t1',
      'ws://test/ws?token=t2',
    ]);
  });

  it('abandons an attempt that does not open in time, and tries again', () => {
    start({ connectTimeoutMs: 3_000 });
    vi.advanceTimersByTime(3_000);
    expect(latest().closedWith?.code).toBe(1000);
    expect(state()).toMatchObject({
      status: 'waiting',
      retry: 1,
      cause: { kind: 'stalled', detail: 'no answer within 3 s' },
      connectedBefore: false,
    });
  });
});

describe('reconnecting', () => {
  it('waits longer after each failure, within the jitter bounds, up to the cap', () => {
    start({ backoff: { baseMs: 100, capMs: 1_000, maxAttempts: 20 } });
    const delays: number[] = [];
    for (let failure = 0; failure < 6; failure++) {
      latest().serverCloses(1006);
      const current = state();
      if (current.status !== 'waiting') throw new Error(`expected waiting, got ${current.status}`);
      delays.push(current.delayMs);
      vi.advanceTimersByTime(current.delayMs);
    }
    // random() = 0.5: half of min(cap, base * 2^retry)
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    expect(FakeWebSocket.instances).toHaveLength(7);
  });

  it('does not open the next socket before the delay is over', () => {
    start({ backoff: { baseMs: 1_000 } });
    latest().serverCloses(1012, 'service restart');
    expect(state()).toMatchObject({ status: 'waiting', delayMs: 500 });
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(state()).toEqual({ status: 'connecting', retry: 1 });
  });

  it.each([1008, 1000, 4401, 1003])('never retries after %i', (code) => {
    start();
    latest().serverAccepts();
    latest().serverCloses(code, 'refused');
    expect(state()).toEqual({
      status: 'closed',
      cause: { kind: 'closed', code, reason: 'refused' },
      why: 'refused',
    });
    vi.advanceTimersByTime(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('does not retry after the user disconnects', () => {
    start();
    latest().serverAccepts();
    socket.disconnect();
    expect(latest().closedWith).toEqual({ code: 1000, reason: 'closed by the user' });
    expect(state()).toMatchObject({ status: 'closed', why: 'user' });
    vi.advanceTimersByTime(120_000);
    window.dispatchEvent(new Event('online'));
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('gives up after the last retry, and starts over on Reconnect now', () => {
    start({ backoff: { maxAttempts: 2 } });
    for (let failure = 0; failure < 3; failure++) {
      latest().serverCloses(1006);
      vi.runOnlyPendingTimers();
    }
    expect(state()).toMatchObject({ status: 'closed', why: 'gave-up' });
    expect(FakeWebSocket.instances).toHaveLength(3);
    socket.reconnectNow();
    expect(state()).toEqual({ status: 'connecting', retry: 0 });
  });

  it('keeps counting the failed tries when Reconnect now skips a wait', () => {
    start();
    latest().serverCloses(1006);
    vi.runOnlyPendingTimers();
    latest().serverCloses(1006);
    expect(state()).toMatchObject({ status: 'waiting', retry: 2 });
    socket.reconnectNow();
    expect(state()).toEqual({ status: 'connecting', retry: 2 });
    latest().serverCloses(1006);
    expect(state()).toMatchObject({ status: 'waiting', retry: 3 });
  });

  it('asks for a fresh ticket after a refused one, a few times in a row at most', async () => {
    let tickets = 0;
    // random() = 0: no wait between tries, so that each step is one turn of the clock.
    start({ url: async () => `ws://test/ws?ticket=t${++tickets}`, random: () => 0 });
    const nextTry = () => vi.advanceTimersByTimeAsync(0);
    await nextTry();
    for (let refusal = 1; refusal <= 3; refusal++) {
      latest().serverCloses(1008, 'ticket not valid: unknown, or used already');
      expect(state()).toMatchObject({ status: 'waiting', retry: refusal });
      await nextTry();
    }
    expect(latest().url).toBe('ws://test/ws?ticket=t4');
    latest().serverCloses(1008, 'ticket expired: ask for a new one');
    expect(state()).toEqual({
      status: 'closed',
      cause: { kind: 'closed', code: 1008, reason: 'ticket expired: ask for a new one' },
      why: 'refused',
    });
  });

  it('counts ticket refusals in a row: a connection that lasts starts them afresh', async () => {
    // No heartbeat while it lasts: the fake server answers no ping.
    start({ url: async () => 'ws://test/ws?ticket=t', random: () => 0, heartbeatMs: 3_600_000 });
    const nextTry = () => vi.advanceTimersByTimeAsync(0);
    await nextTry();
    for (let round = 0; round < 2; round++) {
      for (let refusal = 0; refusal < 3; refusal++) {
        latest().serverCloses(1008, 'ticket not valid: unknown, or used already');
        expect(state().status).toBe('waiting');
        await nextTry();
      }
      latest().serverAccepts(JSON_V1);
      await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.stableAfterMs);
      latest().serverCloses(1012);
      await nextTry();
    }
    expect(state().status).toBe('connecting');
  });

  it('counts a ticket refusal that comes right after the open (the server accepts, then closes with the reason)', async () => {
    start({ url: async () => 'ws://test/ws?ticket=t', random: () => 0 });
    const nextTry = () => vi.advanceTimersByTimeAsync(0);
    await nextTry();
    for (let refusal = 1; refusal <= 3; refusal++) {
      latest().serverAccepts(TEXT_V1);
      latest().serverCloses(1008, 'ticket expired: ask for a new one');
      expect(state()).toMatchObject({ status: 'waiting' });
      await nextTry();
    }
    latest().serverAccepts(TEXT_V1);
    latest().serverCloses(1008, 'ticket expired: ask for a new one');
    expect(state()).toMatchObject({ status: 'closed', why: 'refused' });
  });

  it('never retries a refusal by policy that is not about the ticket', () => {
    start();
    latest().serverCloses(1008, 'missing credentials');
    expect(state()).toMatchObject({ status: 'closed', why: 'refused' });
  });

  it('counts from scratch after a connection that stayed up', () => {
    start({ backoff: { baseMs: 100, stableAfterMs: 10_000 } });
    latest().serverCloses(1006);
    vi.runOnlyPendingTimers();
    latest().serverCloses(1006);
    expect(state()).toMatchObject({ status: 'waiting', retry: 2 });
    vi.runOnlyPendingTimers();
    latest().serverAccepts(TEXT_V1); // no pings to answer: only the time open matters here
    vi.advanceTimersByTime(10_000);
    latest().serverCloses(1001);
    expect(state()).toMatchObject({ status: 'waiting', retry: 1, delayMs: 50 });
  });

  it('keeps counting when connections drop before they are stable', () => {
    start({ backoff: { stableAfterMs: 10_000 } });
    latest().serverAccepts();
    latest().serverCloses(1011);
    vi.runOnlyPendingTimers();
    latest().serverAccepts();
    vi.advanceTimersByTime(2_000);
    latest().serverCloses(1011);
    expect(state()).toMatchObject({ status: 'waiting', retry: 2 });
  });

  it('skips the wait when the browser comes back online or the tab is shown', () => {
    start({ backoff: { baseMs: 60_000, capMs: 60_000 } });
    latest().serverCloses(1006);
    expect(state().status).toBe('waiting');
    window.dispatchEvent(new Event('online'));
    expect(state()).toEqual({ status: 'connecting', retry: 1 }); // the try it skipped to

    latest().serverCloses(1006);
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    expect(FakeWebSocket.instances).toHaveLength(3);
  });
});

describe('heartbeat', () => {
  it('measures the round trip of each ping', () => {
    start({ heartbeatMs: 5_000 });
    latest().serverAccepts(JSON_V1);
    const [ping] = sentJson(latest());
    expect(ping).toMatchObject({ type: 'ping', id: expect.any(String) });
    vi.advanceTimersByTime(42);
    latest().serverSends(JSON.stringify({ type: 'pong', id: ping.id, sent_at: ping.sent_at }));
    expect(socket.getSnapshot().rttMs).toBe(42);
  });

  it('closes a connection whose pings go unanswered and opens another', () => {
    start({ heartbeatMs: 5_000 });
    const dead = latest();
    dead.serverAccepts(JSON_V1);
    vi.advanceTimersByTime(5_000);
    expect(dead.closedWith?.code).toBe(1000);
    expect(state()).toMatchObject({
      status: 'waiting',
      cause: { kind: 'stalled', detail: 'no answer to a ping for 5.0 s' },
      connectedBefore: true,
    });
    vi.runOnlyPendingTimers();
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('does not ping in the text protocols, which have no pong', () => {
    start();
    latest().serverAccepts(TEXT_V1);
    vi.advanceTimersByTime(60_000);
    expect(latest().sent).toEqual([]);
    expect(state().status).toBe('open');
  });
});

describe('sending', () => {
  it('wraps text in the JSON protocol and hands replies over', () => {
    start();
    latest().serverAccepts(JSON_V1);
    const { result, id } = socket.send('Hello');
    expect(result).toBe('sent');
    expect(sentJson(latest()).at(-1)).toEqual({ type: 'text', id, text: 'Hello' });
    latest().serverSends(
      JSON.stringify({ type: 'text', text: 'Message text was: Hello', reply_to: id }),
    );
    latest().serverSends(
      JSON.stringify({ type: 'error', code: 'invalid_json', detail: 'no', reply_to: null }),
    );
    const presence = { type: 'presence', room: 'general', online: [1] } as const;
    latest().serverSends(JSON.stringify(presence));
    expect(received).toEqual([
      { kind: 'text', text: 'Message text was: Hello', replyTo: id },
      { kind: 'error', code: 'invalid_json', detail: 'no', replyTo: null },
      { kind: 'event', message: presence },
    ]);
  });

  it('sends plain text and binary as they are in the text protocol', () => {
    start();
    latest().serverAccepts(TEXT_V1);
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    socket.send('Hello');
    socket.send(bytes);
    expect(latest().sent).toEqual(['Hello', bytes]);
    latest().serverSends('Message text was: Hello');
    latest().serverSends(bytes);
    expect(received).toEqual([
      { kind: 'text', text: 'Message text was: Hello', replyTo: null },
      { kind: 'binary', data: bytes, replyTo: null },
    ]);
  });

  it('queues while down and sends the queue in order when the connection opens', () => {
    start();
    latest().serverCloses(1006);
    expect(socket.send('first').result).toBe('queued');
    expect(socket.send('second').result).toBe('queued');
    expect(socket.getSnapshot().waiting.map((message) => message.data)).toEqual([
      'first',
      'second',
    ]);
    vi.advanceTimersByTime(250); // the wait before the retry
    latest().serverAccepts(TEXT_V1);
    expect(latest().sent).toEqual(['first', 'second']);
    expect(socket.getSnapshot().waiting).toEqual([]);
  });

  it('refuses a message when the queue is full, keeping what is queued', () => {
    start({ queueLimit: 2 });
    expect(socket.send('a').result).toBe('queued');
    expect(socket.send('b').result).toBe('queued');
    expect(socket.send('c').result).toBe('full');
    expect(socket.getSnapshot().waiting.map((message) => message.data)).toEqual(['a', 'b']);
  });

  it('refuses to send when no connection is coming', () => {
    start();
    socket.disconnect();
    expect(socket.send('nobody hears').result).toBe('closed');
  });

  it('ignores a socket it has replaced', () => {
    start();
    const old = latest();
    socket.connect();
    old.serverSends('late');
    old.serverCloses(1006);
    expect(received).toEqual([]);
    expect(state()).toEqual({ status: 'connecting', retry: 0 });
  });
});

describe('never giving up by itself', () => {
  it('retries without limit, with waits capped at 30 s', () => {
    start({ random: () => 1 });
    const delays: number[] = [];
    for (let failure = 0; failure < 40; failure++) {
      latest().serverCloses(1006);
      const current = state();
      if (current.status !== 'waiting') throw new Error(`expected waiting, got ${current.status}`);
      delays.push(current.delayMs);
      vi.advanceTimersByTime(current.delayMs);
    }
    expect(delays.slice(0, 7)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect(Math.max(...delays)).toBe(30_000);
    expect(FakeWebSocket.instances).toHaveLength(41);
    expect(socket.getSnapshot().maxAttempts).toBe(Number.POSITIVE_INFINITY);
  });

  it('says when the next try starts, for a countdown', () => {
    start();
    const before = Date.now();
    latest().serverCloses(1012);
    expect(state()).toMatchObject({ status: 'waiting', delayMs: 250, until: before + 250 });
  });
});

describe('offline', () => {
  const goOffline = (online: boolean) => {
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(online);
    window.dispatchEvent(new Event(online ? 'online' : 'offline'));
  };

  it('is a state of its own: no pings, no retries, messages queued, back at once online', () => {
    start({ heartbeatMs: 5_000 });
    const first = latest();
    first.serverAccepts(JSON_V1);
    goOffline(false);
    expect(state()).toEqual({ status: 'offline' });
    expect(first.closedWith?.code).toBe(1000);
    expect(socket.send('typed offline').result).toBe('queued');
    vi.advanceTimersByTime(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1); // nothing tried while offline
    expect(first.sent).toHaveLength(1); // the first ping only

    goOffline(true);
    expect(state()).toEqual({ status: 'connecting', retry: 0 });
    latest().serverAccepts(JSON_V1);
    expect(sentJson(latest()).map((message) => message.type)).toEqual(['text', 'ping']);
  });

  it('starts offline when the browser already is', () => {
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    start();
    expect(state()).toEqual({ status: 'offline' });
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('waking from sleep', () => {
  it('treats a long gap in timers as a dead connection and reconnects at once', () => {
    start();
    const old = latest();
    old.serverAccepts(TEXT_V1);
    // The machine sleeps: no timer fires for a minute, then the clock has moved on.
    vi.setSystemTime(Date.now() + 60_000);
    vi.advanceTimersByTime(1_000);
    expect(old.closedWith?.code).toBe(1000);
    expect(state()).toEqual({ status: 'connecting', retry: 1 });
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});

describe('tracking each message until it is answered', () => {
  const reply = (id: string, text: string) => JSON.stringify({ type: 'text', text, reply_to: id });

  it('sends unanswered messages again, first, in order, with their own ids', () => {
    start();
    latest().serverAccepts(JSON_V1);
    const a = socket.send('a').id;
    const b = socket.send('b').id;
    latest().serverSends(reply(a, 'Message text was: a'));
    expect(socket.getSnapshot().inFlight.map((message) => message.id)).toEqual([b]);
    latest().serverCloses(1006); // b's answer never came
    const c = socket.send('c').id;
    expect(socket.getSnapshot().waiting.map((message) => message.id)).toEqual([b, c]);
    vi.advanceTimersByTime(1_000);
    latest().serverAccepts(JSON_V1);
    const texts = sentJson(latest()).filter((message) => message.type === 'text');
    expect(texts).toEqual([
      { type: 'text', id: b, text: 'b' },
      { type: 'text', id: c, text: 'c' },
    ]);
  });

  it('shows a reply that comes twice for one message once', () => {
    start();
    latest().serverAccepts(JSON_V1);
    const { id } = socket.send('once');
    latest().serverCloses(1006); // the reply was on its way, the page never saw it go
    vi.advanceTimersByTime(1_000);
    latest().serverAccepts(JSON_V1);
    latest().serverSends(reply(id, 'Message text was: once'));
    latest().serverSends(reply(id, 'Message text was: once'));
    expect(received).toEqual([{ kind: 'text', text: 'Message text was: once', replyTo: id }]);
    expect(socket.getSnapshot().inFlight).toEqual([]);
  });

  it('keeps several different replies to one message', () => {
    start();
    latest().serverAccepts(JSON_V1);
    const { id } = socket.send('x');
    latest().serverSends(reply(id, 'Session cookie or query token value is: t'));
    latest().serverSends(reply(id, 'Message text was: x, for item ID: foo'));
    expect(received.map((message) => message.kind === 'text' && message.text)).toEqual([
      'Session cookie or query token value is: t',
      'Message text was: x, for item ID: foo',
    ]);
  });

  it('gives ids that differ between page loads', () => {
    start();
    const other = new ReconnectingSocket({ url: () => 'ws://test/ws' });
    latest().serverAccepts(JSON_V1);
    const mine = socket.send('x').id;
    expect(mine).toMatch(/^[0-9a-f]{12}-\d+$/);
    expect(mine.split('-')[0]).not.toBe(String(other.send('y').id).split('-')[0]);
  });

  it('does not track what a text protocol cannot answer by id', () => {
    start();
    latest().serverAccepts(TEXT_V1);
    socket.send('plain');
    expect(socket.getSnapshot().inFlight).toEqual([]);
  });
});

describe('a URL that must be fetched first (a ticket)', () => {
  it('waits for it, and counts a failure as a failed try', async () => {
    let calls = 0;
    start({
      url: async () => {
        calls += 1;
        if (calls === 1) throw new Error('no ticket: the server answered 502 Bad Gateway');
        return `ws://test/ws?ticket=t${calls}`;
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(state()).toMatchObject({
      status: 'waiting',
      cause: { kind: 'not-opened', detail: 'no ticket: the server answered 502 Bad Gateway' },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(latest().url).toBe('ws://test/ws?ticket=t2');
  });

  it('stops at a refusal that retrying cannot mend', async () => {
    start({
      url: () => Promise.reject(new ConnectionRefused('no ticket: sign in first')),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(state()).toEqual({
      status: 'closed',
      cause: { kind: 'not-opened', detail: 'no ticket: sign in first' },
      why: 'refused',
    });
  });

  it('drops a URL that arrives after the attempt was given up', async () => {
    let resolve: (url: string) => void = () => undefined;
    start({ url: () => new Promise<string>((done) => (resolve = done)) });
    socket.disconnect();
    resolve('ws://test/late');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('a message the server cannot take yet', () => {
  it('is sent again, with its id, until the room takes it', () => {
    start();
    latest().serverAccepts(JSON_V1);
    const { id } = socket.send('later');
    const unavailable = JSON.stringify({
      type: 'error',
      code: 'room_unavailable',
      detail: 'the room cannot take messages right now',
      reply_to: id,
    });
    latest().serverSends(unavailable);
    expect(socket.getSnapshot().waiting.map((message) => message.id)).toEqual([id]);
    // The reconnect's backoff, with random() = 0.5: half of 500 ms, then half of 1,000 ms.
    vi.advanceTimersByTime(250);
    const texts = () => sentJson(latest()).filter((message) => message.type === 'text');
    expect(texts()).toHaveLength(2);
    latest().serverSends(unavailable); // still not: the next pause is longer
    vi.advanceTimersByTime(499);
    expect(texts()).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(texts().map((message) => message.id)).toEqual([id, id, id]);
    latest().serverSends(
      JSON.stringify({ type: 'ack', reply_to: id, room: 'general', epoch: 'e', offset: 3 }),
    );
    expect(socket.getSnapshot().waiting).toEqual([]);
    expect(socket.getSnapshot().inFlight).toEqual([]);
    // The page heard of the refusal once, and of the acknowledgement.
    expect(received.map((message) => message.kind)).toEqual(['error', 'event']);
  });
});

describe('binary messages answered in order (the echo)', () => {
  it('tracks each until its answer, which names it, and sends it again after a drop', () => {
    start({ answersBinaryInOrder: true });
    latest().serverAccepts(JSON_V1);
    const first = socket.send(new Uint8Array([1]).buffer);
    const second = socket.send(new Uint8Array([2]).buffer);
    expect(socket.getSnapshot().inFlight.map((message) => message.id)).toEqual([
      first.id,
      second.id,
    ]);
    latest().serverSends(new Uint8Array([1]).buffer);
    expect(received).toEqual([
      { kind: 'binary', data: new Uint8Array([1]).buffer, replyTo: first.id },
    ]);
    latest().serverCloses(1006);
    vi.runOnlyPendingTimers();
    latest().serverAccepts(JSON_V1);
    expect(latest().sent.filter((data) => typeof data !== 'string')).toEqual([
      new Uint8Array([2]).buffer,
    ]);
  });

  it('leaves binary messages untracked where the server does not answer them', () => {
    start();
    latest().serverAccepts(JSON_V1);
    socket.send(new Uint8Array([1]).buffer);
    expect(socket.getSnapshot().inFlight).toEqual([]);
    latest().serverSends(new Uint8Array([9]).buffer);
    expect(received).toEqual([{ kind: 'binary', data: new Uint8Array([9]).buffer, replyTo: null }]);
  });
});

describe('the welcome', () => {
  it("hands the page the connection's id and the chat's sender key", () => {
    const welcomes: unknown[] = [];
    start({ onWelcome: (welcome) => welcomes.push(welcome) });
    latest().serverAccepts(JSON_V1);
    latest().serverSends(
      JSON.stringify({ type: 'welcome', connection_id: 'c1', sender_key: 'k'.repeat(16) }),
    );
    latest().serverSends(
      JSON.stringify({ type: 'welcome', connection_id: 'c2', sender_key: 'j'.repeat(16) }),
    );
    expect(welcomes).toEqual([
      { connectionId: 'c1', senderKey: 'k'.repeat(16) },
      { connectionId: 'c2', senderKey: 'j'.repeat(16) },
    ]);
    expect(socket.getSnapshot().connectionId).toBe('c2');
  });
});
