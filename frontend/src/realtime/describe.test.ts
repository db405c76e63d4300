import { describe, expect, it } from 'vitest';
import { describeData, describeState } from './describe';

describe('describeState', () => {
  it('says what the connection is doing', () => {
    expect(describeState({ status: 'idle' })).toBe('Not connected');
    expect(describeState({ status: 'connecting' })).toBe('Connecting…');
    expect(describeState({ status: 'open', protocol: 'realtime.text.v1' })).toBe('Connected');
  });

  it('gives the code and reason of a close the user did not ask for', () => {
    expect(
      describeState({ status: 'closed', code: 1008, reason: 'missing credentials', byUser: false }),
    ).toBe('Closed: 1008 policy violation: missing credentials');
  });

  it('keeps it short when the user disconnected', () => {
    expect(describeState({ status: 'closed', code: 1000, reason: 'x', byUser: true })).toBe(
      'Disconnected',
    );
  });
});

describe('describeData', () => {
  it('shows text as it is and binary by its size', () => {
    expect(describeData('Message text was: hi')).toBe('Message text was: hi');
    expect(describeData(new Uint8Array([1, 2, 3]).buffer)).toBe('3 bytes of binary data');
  });
});
