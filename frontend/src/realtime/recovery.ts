/**
 * What a channel's `sync` means for the page, in the chat's words, for any feature: what it
 * keeps ("messages", "notifications"), where ("the room", "the bell") and how things come
 * ("was said", "arrived"). The chat says them with CHAT_WORDS (describeMessage.ts).
 */
import type { NotRecoveredReason } from './messages';

export interface RecoveryWords {
  /** What may be missing, plural: "messages". */
  readonly things: string;
  /** What keeps the history, with its article: "the room". */
  readonly keeper: string;
  /** How more of them came while the page was away: "was said". */
  readonly came: string;
}

export const CHAT_WORDS: RecoveryWords = {
  things: 'messages',
  keeper: 'the room',
  came: 'was said',
};
export const CHANNEL_WORDS: RecoveryWords = {
  things: 'events',
  keeper: 'the channel',
  came: 'happened',
};

export type MissingReason = Exclude<NotRecoveredReason, 'first_join'>;

/** Why the page cannot be sure it has everything since it was last there. */
export function notRecoveredText(reason: MissingReason, words: RecoveryWords): string {
  const { things, keeper, came } = words;
  const missing = `Some ${things} may be missing`;
  switch (reason) {
    case 'epoch_changed':
      return `${missing}: ${keeper}'s history was lost (the server restarted without Redis).`;
    case 'too_far_behind':
      return `${missing}: more ${came} while you were away than ${keeper} keeps.`;
    case 'expired':
      return `${missing}: you were away longer than ${keeper} keeps its history.`;
    case 'unavailable':
      return `${missing}: ${keeper}'s history cannot be read right now. It follows once the server can.`;
  }
}

/** Where a channel stands after its last `sync`. */
export interface Recovery {
  /** Nothing since the page's position is missing. */
  readonly recovered: boolean;
  /** Why not, when not: `first_join` means the page had no position (nothing to miss). */
  readonly reason: NotRecoveredReason | null;
  /** The events sent before the sync: what was missed, or the recent history. */
  readonly replayed: number;
  /** Said when something may be missing; null when nothing is. */
  readonly missing: string | null;
}

export function recoveryOf(
  sync: {
    readonly recovered: boolean;
    readonly reason: NotRecoveredReason | null;
    readonly replayed: number;
  },
  words: RecoveryWords = CHANNEL_WORDS,
): Recovery {
  const missing =
    !sync.recovered && sync.reason !== null && sync.reason !== 'first_join'
      ? notRecoveredText(sync.reason, words)
      : null;
  return { recovered: sync.recovered, reason: sync.reason, replayed: sync.replayed, missing };
}
