import { describe, expect, it } from 'vitest';
import type { ChannelEvent } from '../realtime/RealtimeConnection';
import { chatMessageOf, chatPresenceOf, chatSyncOf, clientIdOf } from './chatChannel';

const event = (over: Partial<ChannelEvent>): ChannelEvent => ({
  type: 'event',
  channel: 'chat:general',
  epoch: 'e1',
  offset: 4,
  at: 1_000,
  kind: 'published',
  sender: '7',
  message_id: 'a-1',
  data: { text: 'Hello' },
  ...over,
});

describe('the chat over a channel', () => {
  it('reads what members say, join and leave as the chat’s own messages', () => {
    expect(chatMessageOf(event({}), 'general')).toEqual({
      type: 'chat',
      room: 'general',
      client_id: 7,
      text: 'Hello',
      message_id: 'a-1',
      at: 1_000,
      epoch: 'e1',
      offset: 4,
    });
    expect(chatMessageOf(event({ kind: 'joined', data: {} }), 'general')).toMatchObject({
      type: 'joined',
      client_id: 7,
    });
    expect(chatMessageOf(event({ kind: 'left', data: {} }), 'general')).toMatchObject({
      type: 'left',
    });
    expect(chatMessageOf(event({ data: { text: 3 } }), 'general')).toBeNull();
  });

  it('takes a sender that is not a number for 0, as the chat’s JSON does', () => {
    expect(clientIdOf('svc')).toBe(0);
    expect(clientIdOf(null)).toBe(0);
    expect(clientIdOf('²')).toBe(0);
    expect(clientIdOf('9007199254740991')).toBe(9007199254740991);
  });

  it('reads a sync and a presence list for the room', () => {
    const sync = {
      type: 'sync',
      channel: 'chat:general',
      epoch: 'e1',
      offset: 9,
      recovered: true,
      reason: null,
      replayed: 2,
    } as const;
    expect(chatSyncOf(sync, 'general')).toEqual({
      type: 'sync',
      room: 'general',
      epoch: 'e1',
      offset: 9,
      recovered: true,
      reason: null,
      replayed: 2,
    });
    expect(chatPresenceOf({ online: ['11', '7'], complete: false }, 'general')).toEqual({
      type: 'presence',
      room: 'general',
      online: [11, 7],
      complete: false,
    });
  });
});
