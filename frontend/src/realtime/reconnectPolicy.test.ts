import { describe, expect, it } from 'vitest';
import { backoffDelay, shouldReconnect } from './reconnectPolicy';

const options = { baseMs: 500, capMs: 5_000 };

describe('backoffDelay', () => {
  it('grows exponentially: the most it can wait doubles with each retry', () => {
    const ceilings = [0, 1, 2, 3].map((retry) => backoffDelay(retry, options, () => 0.999999));
    expect(ceilings).toEqual([499, 999, 1999, 3999]);
  });

  it('never waits longer than the cap', () => {
    expect(backoffDelay(10, options, () => 0.999999)).toBe(4999);
    expect(backoffDelay(1000, options, () => 0.999999)).toBe(4999);
  });

  it('jitters over the whole range, from zero up to the ceiling', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(2000);
    for (let sample = 0; sample < 1000; sample++) {
      const delay = backoffDelay(2, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2000);
    }
  });
});

describe('shouldReconnect', () => {
  it.each([1001, 1005, 1006, 1011, 1012, 1013, 1014])('retries after %i', (code) => {
    expect(shouldReconnect(code)).toBe(true);
  });

  it.each([
    1000, // the user's own disconnect, or a server that meant it
    1002,
    1003,
    1007,
    1008, // refused by policy: credentials, origin
    1009,
    1010,
    4001, // an application's auth code
    4403,
  ])('does not retry after %i', (code) => {
    expect(shouldReconnect(code)).toBe(false);
  });
});
