import { act, render, renderHook } from '@testing-library/react';
import { type ReactNode, StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelServerMessage } from '../realtime/messages';
import { type ChannelEvent, RealtimeConnection } from '../realtime/RealtimeConnection';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { RealtimeProvider } from './RealtimeProvider';
import { type ChannelOptions, useChannel } from './useChannel';

const JSON_V1 = 'realtime.json.v1';

let realtime: RealtimeConnection;

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  realtime = new RealtimeConnection({
    url: (senderKey) =>
      `ws://test/ws/realtime${senderKey === null ? '' : `?sender_key=${senderKey}`}`,
    random: () => 0.5,
  });
});

afterEach(() => {
  realtime.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const wrapper = ({ children }: { children: ReactNode }) => (
  <StrictMode>
    <RealtimeProvider connection={realtime}>{children}</RealtimeProvider>
  </StrictMode>
);

/** Lets the microtasks run that end a subscription nobody follows any more. */
const settle = () => act(async () => {});

const latest = () => FakeWebSocket.latest();
const sent = (socket = latest()) => socket.sent.map((data) => JSON.parse(String(data)));
const sentOfType = (type: string, socket = latest()) =>
  sent(socket).filter((message) => message.type === type);

function open(socket = latest(), senderKey = 'key-of-this-tab-0001') {
  act(() => {
    socket.serverAccepts(JSON_V1);
    socket.serverSends(
      JSON.stringify({ type: 'welcome', connection_id: 'c1', sender_key: senderKey }),
    );
  });
}

function serverSends(message: ChannelServerMessage | object, socket = latest()) {
  act(() => socket.serverSends(JSON.stringify(message)));
}

function event(channel: string, offset: number, data: object, extra: object = {}) {
  return {
    type: 'event',
    channel,
    epoch: 'e1',
    offset,
    at: 1_732_440_000_000 + offset,
    kind: 'published',
    sender: 'bob',
    message_id: null,
    data,
    ...extra,
  };
}

function sync(channel: string, offset: number, recovered: boolean, reason: string | null) {
  return { type: 'sync', channel, epoch: 'e1', offset, recovered, reason, replayed: 0 };
}

function follow(name: string, options: ChannelOptions = {}) {
  return renderHook(() => useChannel(name, options), { wrapper });
}

describe('useChannel', () => {
  it('follows several channels from several components over one socket', async () => {
    const bell = follow('user:alice');
    const page = follow('user:alice');
    const news = follow('announcements');
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(1);
    open();
    // One subscription per channel on the wire, however many follow it (StrictMode too).
    expect(sentOfType('subscribe').map((message) => message.channel)).toEqual([
      'user:alice',
      'announcements',
    ]);
    serverSends(event('user:alice', 1, { sender: 'bob', text: 'Lunch?' }));
    serverSends(sync('user:alice', 1, false, 'first_join'));
    serverSends(event('announcements', 4, { text: 'Back at noon' }));
    expect(bell.result.current.events.map((e) => e.data.text)).toEqual(['Lunch?']);
    expect(page.result.current.events.map((e) => e.data.text)).toEqual(['Lunch?']);
    expect(page.result.current.status).toBe('live');
    expect(page.result.current.position).toEqual({ epoch: 'e1', offset: 1 });
    expect(news.result.current.events.map((e) => e.data.text)).toEqual(['Back at noon']);
    expect(news.result.current.connection.state).toEqual({ status: 'open', protocol: JSON_V1 });
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('hands each follower every new event once, through the latest onEvent', async () => {
    const seen: string[] = [];
    const other: string[] = [];
    render(
      <Twice
        name="chat:general"
        onA={(e) => seen.push(String(e.data.text))}
        onB={(e) => other.push(String(e.data.text))}
      />,
      { wrapper },
    );
    await settle();
    open();
    serverSends(event('chat:general', 1, { text: 'one' }));
    serverSends(event('chat:general', 1, { text: 'one' })); // a repeat: not shown again
    serverSends(event('chat:general', 2, { text: 'two' }));
    expect(seen).toEqual(['one', 'two']);
    expect(other).toEqual(['one', 'two']);
  });

  it('asks for every followed channel again after a reconnect, from where it was', async () => {
    const chat = follow('chat:general', { member: '7' });
    const bell = follow('user:alice', { since: 'e0:9' });
    await settle();
    open();
    expect(sentOfType('subscribe')).toEqual([
      { type: 'subscribe', id: expect.any(String), channel: 'chat:general', member: '7' },
      { type: 'subscribe', id: expect.any(String), channel: 'user:alice', since: 'e0:9' },
    ]);
    serverSends(event('chat:general', 5, { text: 'hi' }));
    serverSends(sync('chat:general', 5, false, 'first_join'));
    serverSends(sync('user:alice', 9, true, null));

    act(() => latest().serverCloses(1012, 'service restart'));
    expect(chat.result.current.status).toBe('waiting');
    act(() => vi.runOnlyPendingTimers());
    expect(FakeWebSocket.instances).toHaveLength(2);
    // The welcome's sender key is given back, so that a message sent again is placed once.
    expect(latest().url).toBe('ws://test/ws/realtime?sender_key=key-of-this-tab-0001');
    open();
    expect(sentOfType('subscribe')).toEqual([
      {
        type: 'subscribe',
        id: expect.any(String),
        channel: 'chat:general',
        since: 'e1:5',
        member: '7',
      },
      { type: 'subscribe', id: expect.any(String), channel: 'user:alice', since: 'e0:9' },
    ]);
    serverSends(event('chat:general', 5, { text: 'hi' })); // the overlap: dropped
    serverSends(event('chat:general', 6, { text: 'missed' }));
    serverSends({ ...sync('chat:general', 6, true, null), replayed: 1 });
    expect(chat.result.current.events.map((e) => e.data.text)).toEqual(['hi', 'missed']);
    expect(chat.result.current.recovery).toEqual({
      recovered: true,
      reason: null,
      replayed: 1,
      missing: null,
    });
    expect(bell.result.current.status).toBe('subscribing');
  });

  it('says what may be missing when a channel could not be recovered, in its words', async () => {
    const bell = follow('user:alice', {
      since: 'e1:3',
      words: { things: 'notifications', keeper: 'the bell', came: 'arrived' },
    });
    await settle();
    open();
    serverSends(sync('user:alice', 250, false, 'too_far_behind'));
    expect(bell.result.current.recovery?.missing).toBe(
      'Some notifications may be missing: more arrived while you were away than the bell keeps.',
    );
    expect(bell.result.current.position).toEqual({ epoch: 'e1', offset: 250 });
  });

  it('leaves the other channels alone when one is refused', async () => {
    const other = follow('user:bob');
    const chat = follow('chat:general', { member: '7' });
    await settle();
    open();
    const [refused] = sentOfType('subscribe');
    serverSends({
      type: 'error',
      code: 'forbidden',
      detail: 'you may not follow user:bob',
      reply_to: refused.id,
    });
    serverSends(event('chat:general', 1, { text: 'still here' }));
    expect(other.result.current.status).toBe('refused');
    expect(other.result.current.error?.code).toBe('forbidden');
    expect(other.result.current.error?.message).toBe('you may not follow user:bob');
    expect(chat.result.current.events.map((e) => e.data.text)).toEqual(['still here']);
    expect(latest().readyState).toBe(FakeWebSocket.OPEN);
  });

  it('sends a publish again with the same id after a reconnect, and shows it once', async () => {
    const chat = follow('chat:general', { member: '7' });
    await settle();
    open();
    serverSends(sync('chat:general', 0, false, 'first_join'));
    let acked: unknown = null;
    act(() => {
      chat.result.current.publish({ text: 'hello' }).then((ack) => {
        acked = ack;
      });
    });
    const [first] = sentOfType('publish');
    expect(first).toEqual({
      type: 'publish',
      id: expect.any(String),
      channel: 'chat:general',
      data: { text: 'hello' },
    });
    // The room placed it, and the connection died before its ack came.
    serverSends(event('chat:general', 1, { text: 'hello' }, { message_id: first.id, sender: '7' }));
    act(() => latest().serverCloses(1006));
    act(() => vi.runOnlyPendingTimers());
    open();
    // Subscribed again first, then the same message with the same id.
    expect(sent().map((message) => message.type)).toEqual(['subscribe', 'publish', 'ping']);
    expect(sentOfType('publish')[0]).toEqual(first);
    expect(latest().url).toContain('sender_key=key-of-this-tab-0001');
    serverSends(event('chat:general', 1, { text: 'hello' }, { message_id: first.id, sender: '7' }));
    serverSends({ ...sync('chat:general', 1, true, null), replayed: 1 });
    serverSends({
      type: 'ack',
      reply_to: first.id,
      channel: 'chat:general',
      epoch: 'e1',
      offset: 1,
    });
    await settle();
    expect(acked).toEqual({
      type: 'ack',
      reply_to: first.id,
      channel: 'chat:general',
      epoch: 'e1',
      offset: 1,
    });
    expect(chat.result.current.events.map((e) => e.data.text)).toEqual(['hello']);
    expect(chat.result.current.connection.inFlight).toEqual([]);
  });

  it('tells a publish the channel refused, and sends again one it could not take now', async () => {
    const chat = follow('chat:general', { member: '7' });
    await settle();
    open();
    const refused = chat.result.current.publish({ text: 42 });
    const [bad] = sentOfType('publish');
    serverSends({
      type: 'error',
      code: 'invalid_payload',
      detail: 'text: Input should be a valid string',
      reply_to: bad.id,
    });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_payload' });

    act(() => {
      chat.result.current.publish({ text: 'later' });
    });
    const later = sentOfType('publish')[1];
    serverSends({
      type: 'error',
      code: 'channel_unavailable',
      detail: 'not now',
      reply_to: later.id,
    });
    act(() => vi.advanceTimersByTime(5_000));
    expect(sentOfType('publish').slice(2)).toEqual([later]);
  });

  it('ends the subscription when the last component leaves, and the socket with the last channel', async () => {
    const first = follow('chat:general', { member: '7' });
    const second = follow('chat:general', { member: '7' });
    const bell = follow('user:alice');
    await settle();
    open();
    first.unmount();
    await settle();
    expect(sentOfType('unsubscribe')).toEqual([]);
    second.unmount();
    await settle();
    expect(sentOfType('unsubscribe')).toEqual([
      { type: 'unsubscribe', id: expect.any(String), channel: 'chat:general' },
    ]);
    expect(latest().readyState).toBe(FakeWebSocket.OPEN);
    bell.unmount();
    await settle();
    expect(latest().closedWith).toEqual({ code: 1000, reason: 'page closed' });
  });

  it('follows afresh as another member, and not at all for a null name', async () => {
    const { rerender } = renderHook(({ member }) => useChannel('chat:general', { member }), {
      wrapper,
      initialProps: { member: '7' },
    });
    const none = follow('user:nobody');
    none.rerender();
    await settle();
    open();
    rerender({ member: '8' });
    await settle();
    expect(sentOfType('subscribe').map((message) => [message.channel, message.member])).toEqual([
      ['chat:general', '7'],
      ['user:nobody', undefined],
      ['chat:general', '8'],
    ]);
    const idle = renderHook(() => useChannel(null), { wrapper });
    expect(idle.result.current.status).toBe('idle');
    await expect(idle.result.current.publish({ text: 'x' })).rejects.toMatchObject({
      code: 'closed',
    });
  });
});

function Twice({
  name,
  onA,
  onB,
}: {
  name: string;
  onA: (event: ChannelEvent) => void;
  onB: (event: ChannelEvent) => void;
}) {
  return (
    <>
      <Follows name={name} onEvent={onA} />
      <Follows name={name} onEvent={onB} />
    </>
  );
}

function Follows({ name, onEvent }: { name: string; onEvent: (event: ChannelEvent) => void }) {
  useChannel(name, { onEvent });
  return null;
}
