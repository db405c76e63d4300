import { describe, expect, it } from 'vitest';
import { describeChat, describeIncoming, describeState } from './describe';

const lost = { code: 1006, reason: '' };

describe('describeState', () => {
  it('says what the connection is doing', () => {
    expect(describeState({ status: 'idle' }, 10)).toBe('Not connected');
    expect(describeState({ status: 'connecting', retry: 0 }, 10)).toBe('Connecting…');
    expect(describeState({ status: 'connecting', retry: 3 }, 10)).toBe(
      'Reconnecting… (retry 3 of 10)',
    );
    expect(describeState({ status: 'open', protocol: 'realtime.json.v1' }, 10)).toBe('Connected');
  });

  it('shows why the connection was lost and when it tries again', () => {
    const restart = { code: 1012, reason: '' };
    expect(
      describeState({ status: 'waiting', retry: 1, delayMs: 300, lastClose: restart }, 10),
    ).toBe('Connection lost (1012 service restart). Reconnecting in 0.3 s (retry 1 of 10)');
    expect(describeState({ status: 'waiting', retry: 2, delayMs: 1234, lastClose: lost }, 10)).toBe(
      'Could not reconnect (1006 abnormal closure: the connection failed or was cut). Reconnecting in 1.2 s (retry 2 of 10)',
    );
  });

  it('gives the code and reason of a refusal', () => {
    const close = { code: 1008, reason: 'missing credentials' };
    expect(describeState({ status: 'closed', close, why: 'refused' }, 10)).toBe(
      'Closed: 1008 policy violation: missing credentials',
    );
  });

  it('says when it gave up, and keeps it short when the user disconnected', () => {
    expect(describeState({ status: 'closed', close: lost, why: 'gave-up' }, 10)).toBe(
      'Gave up after 10 retries: 1006 abnormal closure: the connection failed or was cut',
    );
    const close = { code: 1000, reason: 'closed by the user' };
    expect(describeState({ status: 'closed', close, why: 'user' }, 10)).toBe('Disconnected');
  });
});

describe('describeIncoming', () => {
  it('shows text as it is, bytes by size and preview, and server errors', () => {
    expect(describeIncoming({ kind: 'text', text: 'Message text was: hi', replyTo: 'm1' })).toBe(
      'Message text was: hi',
    );
    expect(describeIncoming({ kind: 'binary', data: new Uint8Array([1, 2, 255]).buffer })).toBe(
      '3 bytes: 01 02 ff',
    );
    expect(
      describeIncoming({ kind: 'error', code: 'invalid_json', detail: 'not valid JSON' }),
    ).toBe('The server could not take a message: not valid JSON');
  });
});

describe('describeChat', () => {
  it("words a room's events as the guide does", () => {
    const at = 0;
    expect(describeChat({ type: 'chat', room: 'r', client_id: 7, text: 'hi', at })).toBe('hi');
    expect(describeChat({ type: 'joined', room: 'r', client_id: 7, at })).toBe(
      'Client #7 joined the chat',
    );
    expect(describeChat({ type: 'left', room: 'r', client_id: 7, at })).toBe(
      'Client #7 left the chat',
    );
    expect(describeChat({ type: 'presence', room: 'r', online: [1, 2] })).toBe('Online: #1, #2');
    expect(describeChat({ type: 'presence', room: 'r', online: [] })).toBe('Online: nobody');
  });
});
