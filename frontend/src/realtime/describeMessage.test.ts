import { describe, expect, it } from 'vitest';
import { describeEvent, describeIncoming } from './describeMessage';

describe('describeIncoming', () => {
  it('shows text as it is, bytes by size and preview, and server errors', () => {
    expect(describeIncoming({ kind: 'text', text: 'Message text was: hi', replyTo: 'm1' })).toBe(
      'Message text was: hi',
    );
    expect(describeIncoming({ kind: 'binary', data: new Uint8Array([1, 2, 255]).buffer })).toBe(
      '3 bytes: 01 02 ff',
    );
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
      'Recovered 3 missed events.',
    );
    expect(describeEvent({ ...sync, recovered: false, reason: 'epoch_changed', replayed: 0 })).toBe(
      "Some messages may be missing: the room's history was lost (the server restarted without Redis).",
    );
  });
});
