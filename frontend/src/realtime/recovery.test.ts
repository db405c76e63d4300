import { describe, expect, it } from 'vitest';
import { CHAT_WORDS, type MissingReason, notRecoveredText, recoveryOf } from './recovery';

describe('notRecoveredText', () => {
  const chat: Record<MissingReason, string> = {
    epoch_changed:
      "Some messages may be missing: the room's history was lost (the server restarted without Redis).",
    too_far_behind:
      'Some messages may be missing: more was said while you were away than the room keeps.',
    expired: 'Some messages may be missing: you were away longer than the room keeps its history.',
    unavailable:
      "Some messages may be missing: the room's history cannot be read right now. It follows once the server can.",
  };
  it.each(Object.keys(chat) as MissingReason[])('says %s in the chat words', (reason) => {
    expect(notRecoveredText(reason, CHAT_WORDS)).toBe(chat[reason]);
  });
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
