import { useCallback, useRef, useState } from 'react';

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
type Change =
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

export function applyChanges(log: MessageLog, changes: readonly Change[]): MessageLog {
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

/** Runs `flush` before the next paint, or soon where there is no painting (a hidden tab). */
function scheduleFlush(flush: () => void): void {
  if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
    requestAnimationFrame(flush);
  } else {
    setTimeout(flush, 50);
  }
}

/**
 * The page's message log. Entries added between two frames are rendered together: a server
 * that sends a thousand messages a second costs one render per frame, not a thousand.
 */
export function useMessageLog() {
  const [log, setLog] = useState<MessageLog>(EMPTY_LOG);
  const nextId = useRef(1);
  const pending = useRef<LogEntry[]>([]);
  const changes = useRef<Change[]>([]);
  // Let go of before they were ever shown, when more than a whole log arrives within a frame.
  const droppedUnseen = useRef(0);
  const scheduled = useRef(false);
  const flush = useCallback(() => {
    scheduled.current = false;
    const added = pending.current;
    const changed = changes.current;
    const unseen = droppedUnseen.current;
    pending.current = [];
    changes.current = [];
    droppedUnseen.current = 0;
    setLog((current) => {
      const next = applyChanges(appendEntries(current, added), changed);
      return unseen > 0 ? { ...next, dropped: next.dropped + unseen } : next;
    });
  }, []);
  const schedule = useCallback(() => {
    if (!scheduled.current) {
      scheduled.current = true;
      scheduleFlush(flush);
    }
  }, [flush]);
  /** Adds an entry; returns its id, for `update`. */
  const add = useCallback(
    (kind: LogKind, text: string, details: LogDetails = {}): number => {
      const entry: LogEntry = { id: nextId.current++, kind, text, at: Date.now(), ...details };
      const waiting = pending.current.push(entry);
      schedule();
      if (waiting > LOG_LIMIT) {
        pending.current.shift();
        droppedUnseen.current += 1;
      }
      return entry.id;
    },
    [schedule],
  );
  /** Rewrites an entry in place: one line that follows a story (retries, say). */
  const update = useCallback(
    (id: number, kind: LogKind, text: string) => {
      changes.current.push({ op: 'text', id, kind, text });
      schedule();
    },
    [schedule],
  );
  /** Marks the sent message with this id as answered. */
  const markAnswered = useCallback(
    (messageId: string) => {
      changes.current.push({ op: 'answered', messageId });
      schedule();
    },
    [schedule],
  );
  const clear = useCallback(() => {
    pending.current = [];
    changes.current = [];
    droppedUnseen.current = 0;
    setLog(EMPTY_LOG);
  }, []);
  return { log, add, update, markAnswered, clear };
}
