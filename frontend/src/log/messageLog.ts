export type LogKind = 'sent' | 'received' | 'event' | 'error';

export interface LogEntry {
  readonly id: number;
  readonly kind: LogKind;
  readonly text: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** For a sent message: its id on the connection, to show whether it still waits. */
  readonly messageId?: string;
  /** For a sent message: its answer came. */
  readonly answered?: boolean;
  /** Who said it, when not the page's own "You" or "Server" (a chat's "Client #7"). */
  readonly who?: string;
}

/** `at`: when it happened, for an entry that comes later (a chat's history). */
export type LogDetails = Partial<Pick<LogEntry, 'messageId' | 'who' | 'at'>>;

/** A change to an entry already in the log. */
export type LogChange =
  | { readonly op: 'text'; readonly id: number; readonly kind: LogKind; readonly text: string }
  | { readonly op: 'answered'; readonly messageId: string };

export interface MessageLog {
  readonly entries: readonly LogEntry[];
  /** How many of the oldest entries were let go to keep the log bounded. */
  readonly dropped: number;
}

/** Enough to scroll back through a conversation, few enough to keep rendering cheap. */
export const LOG_LIMIT = 500;

export const EMPTY_LOG: MessageLog = { entries: [], dropped: 0 };

export function appendToLog(log: MessageLog, entry: LogEntry, limit = LOG_LIMIT): MessageLog {
  return appendEntries(log, [entry], limit);
}

export function appendEntries(
  log: MessageLog,
  added: readonly LogEntry[],
  limit = LOG_LIMIT,
): MessageLog {
  if (added.length === 0) return log;
  const entries = [...log.entries, ...added];
  const excess = Math.max(0, entries.length - limit);
  return { entries: excess > 0 ? entries.slice(excess) : entries, dropped: log.dropped + excess };
}

export function applyChanges(log: MessageLog, changes: readonly LogChange[]): MessageLog {
  if (changes.length === 0) return log;
  const entries = log.entries.map((entry) => {
    let changed = entry;
    for (const change of changes) {
      if (change.op === 'text' && change.id === entry.id) {
        changed = { ...changed, kind: change.kind, text: change.text, at: Date.now() };
      } else if (change.op === 'answered' && change.messageId === entry.messageId) {
        changed = { ...changed, answered: true };
      }
    }
    return changed;
  });
  return { ...log, entries };
}
