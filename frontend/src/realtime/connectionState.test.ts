import { describe, expect, it } from 'vitest';
import { canRetryNow, describeState, isActive } from './connectionState';

const lost = { code: 1006, reason: '' };
const now = 1_000_000;

describe('describeState', () => {
  it('says what the connection is doing', () => {
    expect(describeState({ status: 'idle' })).toBe('Not connected');
    expect(describeState({ status: 'connecting', retry: 0 })).toBe('Connecting…');
    expect(describeState({ status: 'connecting', retry: 3 })).toBe('Reconnecting… (try 4)');
    expect(describeState({ status: 'open', protocol: 'realtime.json.v1' })).toBe('Connected');
    expect(describeState({ status: 'offline' })).toBe('Offline: waiting for the network');
  });

  it('counts down to the next try, in whole seconds, never "0 s"', () => {
    const restart = { code: 1012, reason: '' };
    const waiting = { status: 'waiting', retry: 1, delayMs: 4000, until: now + 4000 } as const;
    expect(describeState({ ...waiting, lastClose: restart }, { now })).toBe(
      'Connection lost: 1012 service restart. Reconnecting in 4 s (retry 1)',
    );
    expect(describeState({ ...waiting, lastClose: restart }, { now: now + 3100 })).toBe(
      'Connection lost: 1012 service restart. Reconnecting in 1 s (retry 1)',
    );
    expect(describeState({ ...waiting, lastClose: restart }, { now: now + 4500 })).toBe(
      'Connection lost: 1012 service restart. Reconnecting in 1 s (retry 1)',
    );
    expect(describeState({ ...waiting, retry: 3, lastClose: lost }, { now, maxAttempts: 10 })).toBe(
      'Could not reconnect (2 tries): 1006 abnormal closure: the connection failed or was cut. Reconnecting in 4 s (retry 3 of 10)',
    );
  });

  it('gives the code and reason of a refusal', () => {
    const close = { code: 1008, reason: 'missing credentials' };
    expect(describeState({ status: 'closed', close, why: 'refused' })).toBe(
      'Closed: 1008 policy violation: missing credentials',
    );
  });

  it('says when it gave up, and keeps it short when the user disconnected', () => {
    expect(
      describeState({ status: 'closed', close: lost, why: 'gave-up' }, { maxAttempts: 10 }),
    ).toBe('Gave up after 10 retries: 1006 abnormal closure: the connection failed or was cut');
    const close = { code: 1000, reason: 'closed by the user' };
    expect(describeState({ status: 'closed', close, why: 'user' })).toBe('Disconnected');
  });
});

describe('what a state allows', () => {
  it('is active while open or on its way back, offline included', () => {
    expect(isActive({ status: 'open', protocol: '' })).toBe(true);
    expect(isActive({ status: 'offline' })).toBe(true);
    expect(isActive({ status: 'idle' })).toBe(false);
    expect(isActive({ status: 'closed', close: lost, why: 'user' })).toBe(false);
  });

  it('offers a retry now only while waiting or after giving up', () => {
    const waiting = { status: 'waiting', retry: 1, delayMs: 1, until: 1, lastClose: lost } as const;
    expect(canRetryNow(waiting)).toBe(true);
    expect(canRetryNow({ status: 'closed', close: lost, why: 'gave-up' })).toBe(true);
    expect(canRetryNow({ status: 'closed', close: lost, why: 'refused' })).toBe(false);
    expect(canRetryNow({ status: 'offline' })).toBe(false);
  });
});
