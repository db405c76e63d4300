import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSeat, rememberedSeat, rememberJoin, rememberLeave } from './chatSeat';

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
      field: 'client-id',
    });
  });

  it.each(['', 'two words', 'x'.repeat(33), '<script>'])('refuses the room %j', (room) => {
    expect(parseSeat('1', room)).toEqual({
      error: 'The room name takes 1 to 32 letters, digits, - or _.',
      field: 'room',
    });
  });
});

describe('what the browser keeps', () => {
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    window.history.replaceState(null, '', '/chat');
  });
  afterEach(() => window.history.replaceState(null, '', '/'));

  it('keeps the number per browser, and the room in the address and the tab', () => {
    rememberJoin({ clientId: 11, room: 'ops' });
    expect(window.location.search).toBe('?room=ops');
    expect(rememberedSeat()).toEqual({
      clientId: '11',
      room: 'ops',
      rejoin: { clientId: 11, room: 'ops' },
    });
    rememberLeave();
    expect(rememberedSeat()).toEqual({ clientId: '11', room: 'ops', rejoin: null });
  });

  it('follows a link to another room rather than rejoining the last one', () => {
    rememberJoin({ clientId: 11, room: 'ops' });
    expect(rememberedSeat('?room=dev')).toEqual({ clientId: '11', room: 'dev', rejoin: null });
  });

  it('starts in the guide’s room with a number of its own when it knows nothing', () => {
    const fresh = rememberedSeat('');
    expect(fresh.room).toBe('general');
    expect(fresh.clientId).toMatch(/^\d{4}$/);
    expect(fresh.rejoin).toBeNull();
  });
});
