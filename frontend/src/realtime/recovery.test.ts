import { describe, expect, it } from 'vitest';
import { NOT_RECOVERED } from './describeMessage';
import { CHAT_WORDS, type MissingReason, notRecoveredText, recoveryOf } from './recovery';

describe('notRecoveredText', () => {
  it.each(Object.keys(NOT_RECOVERED) as MissingReason[])(
    'says %s in the chat words, as the chat says it',
    (reason) => {
      expect(notRecoveredText(reason, CHAT_WORDS)).toBe(NOT_RECOVERED[reason]);
    },
  );
});

describe('recoveryOf', () => {
  const words = { things: 'notifications', keeper: 'the bell', came: 'arrived' };

  it('says nothing is missing after a recovery or a first join', () => {
    expect(recoveryOf({ recovered: true, reason: null, replayed: 2 }, words).missing).toBeNull();
    expect(
      recoveryOf({ recovered: false, reason: 'first_join', replayed: 5 }, words).missing,
    ).toBeNull();
  });

  it('says what may be missing otherwise, in the feature’s words', () => {
    expect(recoveryOf({ recovered: false, reason: 'expired', replayed: 0 }, words).missing).toBe(
      'Some notifications may be missing: you were away longer than the bell keeps its history.',
    );
  });
});
