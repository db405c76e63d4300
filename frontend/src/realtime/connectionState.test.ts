import { describe, expect, it } from 'vitest';
import {
  type Cause,
  type ConnectionState,
  canRetryNow,
  describeCause,
  describeState,
  describeStateForLog,
  isActive,
  stateLook,
} from './connectionState';

const cut: Cause = { kind: 'closed', code: 1006, reason: '' };
const restart: Cause = { kind: 'closed', code: 1012, reason: '' };
const now = 1_000_000;

function waiting(retry: number, cause: Cause, connectedBefore = true): ConnectionState {
  return { status: 'waiting', retry, delayMs: 4000, until: now + 4000, cause, connectedBefore };
}

describe('describeCause', () => {
  it('says what a code means when the server gave no reason, and names the code', () => {
    expect(describeCause(cut)).toBe(
      'the connection was cut, or the server could not be reached (1006 abnormal closure)',
    );
    expect(describeCause(restart)).toBe('the server is restarting (1012 service restart)');
    expect(describeCause({ kind: 'closed', code: 4321, reason: '' })).toBe(
      'closed (4321 application code)',
    );
  });

  it("gives the server's reason when there is one", () => {
    expect(describeCause({ kind: 'closed', code: 1008, reason: 'missing credentials' })).toBe(
      'missing credentials (1008 policy violation)',
    );
  });

  it('names no code when no socket closed', () => {
    expect(describeCause({ kind: 'not-opened', detail: 'no ticket: the server is away' })).toBe(
      'no ticket: the server is away',
    );
    expect(describeCause({ kind: 'stalled', detail: 'no answer within 10 s' })).toBe(
      'no answer within 10 s',
    );
  });
});

describe('describeState', () => {
  it('says what the connection is doing', () => {
    expect(describeState({ status: 'idle' })).toBe('Not connected');
    expect(describeState({ status: 'connecting', retry: 0 })).toBe('Connecting…');
    expect(describeState({ status: 'connecting', retry: 3 })).toBe('Reconnecting…');
    expect(describeState({ status: 'open', protocol: 'realtime.json.v1' })).toBe('Connected');
    expect(describeState({ status: 'offline' })).toBe('Offline: waiting for the network');
  });

  it('counts down to the next try, in whole seconds, never "0 s"', () => {
    const lost = waiting(1, restart);
    const line = (at: number) => describeState(lost, { now: at });
    expect(line(now)).toBe(
      'Connection lost: the server is restarting (1012 service restart). Reconnecting in 4 s.',
    );
    expect(line(now + 3100)).toMatch(/Reconnecting in 1 s\.$/);
    expect(line(now + 4500)).toMatch(/Reconnecting in 1 s\.$/);
  });

  it('counts the failed retries, once, in words that agree with the number', () => {
    expect(describeState(waiting(2, cut), { now })).toBe(
      'Connection lost: the connection was cut, or the server could not be reached (1006 abnormal closure). Reconnecting in 4 s (1 retry failed).',
    );
    expect(describeState(waiting(4, cut), { now })).toMatch(/ \(3 retries failed\)\.$/);
    expect(describeState(waiting(3, cut), { now, maxAttempts: 10 })).toMatch(
      / \(2 of 10 retries failed\)\.$/,
    );
    expect(describeState(waiting(2, cut), { now, maxAttempts: 10 })).toMatch(
      / \(1 of 10 retries failed\)\.$/,
    );
  });

  it('says "could not connect" when no connection was ever made', () => {
    const ticket: Cause = {
      kind: 'not-opened',
      detail: 'no ticket: the server could not be reached',
    };
    expect(describeState(waiting(1, ticket, false), { now })).toBe(
      'Could not connect: no ticket: the server could not be reached. Reconnecting in 4 s.',
    );
  });

  it('tells a refusal on the socket from one before it, and from a server that closed', () => {
    const closed = (cause: Cause) => describeState({ status: 'closed', cause, why: 'refused' });
    expect(closed({ kind: 'closed', code: 1008, reason: 'missing credentials' })).toBe(
      'Refused by the server: missing credentials (1008 policy violation)',
    );
    expect(closed({ kind: 'not-opened', detail: 'no ticket: missing credentials' })).toBe(
      'Refused before connecting: no ticket: missing credentials',
    );
    expect(closed({ kind: 'closed', code: 1009, reason: '' })).toBe(
      'Closed by the server: closed (1009 message too big)',
    );
  });

  it('says when it gave up, and keeps it short when the user disconnected', () => {
    expect(
      describeState({ status: 'closed', cause: cut, why: 'gave-up' }, { maxAttempts: 10 }),
    ).toBe(
      'Gave up after 10 retries: the connection was cut, or the server could not be reached (1006 abnormal closure)',
    );
    const cause: Cause = { kind: 'closed', code: 1000, reason: 'closed by the user' };
    expect(describeState({ status: 'closed', cause, why: 'user' })).toBe('Disconnected');
  });
});

describe('describeStateForLog', () => {
  it('keeps one line for a run of retries, without the countdown', () => {
    expect(describeStateForLog(waiting(1, restart), Number.POSITIVE_INFINITY)).toBe(
      'Connection lost: the server is restarting (1012 service restart). Reconnecting…',
    );
    expect(describeStateForLog(waiting(3, restart), Number.POSITIVE_INFINITY)).toBe(
      'Connection lost: the server is restarting (1012 service restart). Reconnecting… (2 retries failed)',
    );
  });
});

describe('what a state allows', () => {
  it('is active while open or on its way back, offline included', () => {
    expect(isActive({ status: 'open', protocol: '' })).toBe(true);
    expect(isActive({ status: 'offline' })).toBe(true);
    expect(isActive({ status: 'idle' })).toBe(false);
    expect(isActive({ status: 'closed', cause: cut, why: 'user' })).toBe(false);
  });

  it('offers a retry now only while waiting or after giving up', () => {
    expect(canRetryNow(waiting(1, cut))).toBe(true);
    expect(canRetryNow({ status: 'closed', cause: cut, why: 'gave-up' })).toBe(true);
    expect(canRetryNow({ status: 'closed', cause: cut, why: 'refused' })).toBe(false);
    expect(canRetryNow({ status: 'offline' })).toBe(false);
  });
});

describe('stateLook', () => {
  it('looks different for your own disconnect, a refusal and trying again', () => {
    const looks = [
      stateLook({ status: 'closed', cause: cut, why: 'user' }),
      stateLook({ status: 'closed', cause: cut, why: 'refused' }),
      stateLook(waiting(1, cut)),
    ];
    expect(looks).toEqual(['stopped', 'failed', 'trying']);
    expect(stateLook({ status: 'closed', cause: cut, why: 'gave-up' })).toBe('failed');
    expect(stateLook({ status: 'idle' })).toBe('stopped');
  });
});
