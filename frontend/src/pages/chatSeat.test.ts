import { describe, expect, it } from 'vitest';
import { chatSocketUrl, parseSeat } from './ChatPage';

describe('parseSeat', () => {
  it('takes a whole number and a room name', () => {
    expect(parseSeat('42', 'general')).toEqual({ clientId: 42, room: 'general' });
    expect(parseSeat('9007199254740991', 'ops_2-b')).toEqual({
      clientId: 9007199254740991,
      room: 'ops_2-b',
    });
  });

  it.each(['', 'abc', '-1', '1.5', '9007199254740992', '1e3'])('refuses the number %j', (id) => {
    expect(parseSeat(id, 'general')).toEqual({
      error: 'Your number must be a whole number from 0 to 9007199254740991.',
    });
  });

  it.each(['', 'two words', 'x'.repeat(33), '<script>'])('refuses the room %j', (room) => {
    expect(parseSeat('1', room)).toEqual({
      error: 'The room name takes 1 to 32 letters, digits, - or _.',
    });
  });
});

describe('chatSocketUrl', () => {
  it('puts the number in the path and the room in the query', () => {
    expect(
      chatSocketUrl({ clientId: 7, room: 'ops' }, undefined, { protocol: 'https:', host: 'a.b' }),
    ).toBe('wss://a.b/ws/7?room=ops');
    expect(
      chatSocketUrl({ clientId: 7, room: 'ops' }, 'T', { protocol: 'http:', host: 'a.b' }),
    ).toBe('ws://a.b/ws/7?room=ops&ticket=T');
  });
});
