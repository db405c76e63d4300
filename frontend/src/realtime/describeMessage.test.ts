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
    const at = 0;
    expect(describeEvent({ type: 'chat', room: 'r', client_id: 7, text: 'hi', at })).toBe('hi');
    expect(describeEvent({ type: 'joined', room: 'r', client_id: 7, at })).toBe(
      'Client #7 joined the chat',
    );
    expect(describeEvent({ type: 'left', room: 'r', client_id: 7, at })).toBe(
      'Client #7 left the chat',
    );
    expect(describeEvent({ type: 'presence', room: 'r', online: [1, 2] })).toBe('Online: #1, #2');
    expect(describeEvent({ type: 'presence', room: 'r', online: [] })).toBe('Online: nobody');
  });
});
