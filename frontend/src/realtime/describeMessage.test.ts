import { describe, expect, it } from 'vitest';
import { describeEvent, describeIncoming, describeSync } from './describeMessage';

describe('describeIncoming', () => {
  it('shows text as it is, bytes by size and preview, and server errors', () => {
    expect(describeIncoming({ kind: 'text', text: 'Message text was: hi', replyTo: 'm1' })).toBe(
      'Message text was: hi',
    );
    expect(
      describeIncoming({ kind: 'binary', data: new Uint8Array([1, 2, 255]).buffer, replyTo: null }),
    ).toBe('3 bytes: 01 02 ff');
    expect(
      describeIncoming({
        kind: 'error',
        code: 'invalid_json',
        detail: 'not valid JSON',
        replyTo: null,
      }),
    ).toBe('The server could not take a message: not valid JSON');
  });
});

describe('describeEvent', () => {
  it("words a room's events as the guide does", () => {
    const event = { room: 'r', client_id: 7, at: 0, epoch: 'e', offset: 1 };
    expect(describeEvent({ ...event, type: 'chat', text: 'hi', message_id: null })).toBe('hi');
    expect(describeEvent({ ...event, type: 'joined' })).toBe('Client #7 joined the chat');
    expect(describeEvent({ ...event, type: 'left' })).toBe('Client #7 left the chat');
    const presence = { type: 'presence', room: 'r', complete: true } as const;
    expect(describeEvent({ ...presence, online: [1, 2] })).toBe('Online: #1, #2');
    expect(describeEvent({ ...presence, online: [] })).toBe('Online: nobody');
  });

  it('says whether a return to a room recovered everything', () => {
    const sync = { type: 'sync', room: 'r', epoch: 'e', offset: 9 } as const;
    expect(describeEvent({ ...sync, recovered: true, reason: null, replayed: 3 })).toBe(
      'Back in the room: nothing was missed.',
    );
    expect(describeEvent({ ...sync, recovered: false, reason: 'epoch_changed', replayed: 0 })).toBe(
      "Some messages may be missing: the room's history was lost (the server restarted without Redis).",
    );
  });
});

describe('describeSync', () => {
  const sync = { type: 'sync', room: 'ops', epoch: 'e', offset: 9, replayed: 7 } as const;
  const back = { ...sync, recovered: true, reason: null } as const;
  const first = { ...sync, recovered: false, reason: 'first_join' } as const;

  it('counts the chat messages the page received, not the events the room replayed', () => {
    expect(describeSync(back, 3)).toEqual({ text: 'Recovered 3 missed messages.', trouble: false });
    expect(describeSync(back, 1).text).toBe('Recovered 1 missed message.');
    expect(describeSync(back, 0).text).toBe('Back in the room: nothing was missed.');
    expect(describeSync(back, 2, 11).text).toBe(
      'You joined ops as #11: recovered 2 missed messages.',
    );
  });

  it('says who joined where, and what the history above is', () => {
    expect(describeSync(first, 2, 11).text).toBe(
      'You joined ops as #11: the 2 most recent messages are above.',
    );
    expect(describeSync(first, 1, 11).text).toBe(
      'You joined ops as #11: the most recent message is above.',
    );
    expect(describeSync(first, 0, 11).text).toBe('You joined ops as #11.');
    expect(describeSync(first, null).text).toBe('Joined ops.');
  });

  it('is trouble when some messages may be missing', () => {
    const lost = { ...sync, recovered: false, reason: 'expired' } as const;
    expect(describeSync(lost, 0)).toEqual({
      text: 'Some messages may be missing: you were away longer than the room keeps its history.',
      trouble: true,
    });
  });
});
