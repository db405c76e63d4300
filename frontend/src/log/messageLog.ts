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
  /** Who said it, when not the page's own "You" or "Server" (a chat's "Client #7"). */
  readonly who?: string;
}

export type LogDetails = Pick<LogEntry, 'messageId' | 'who'>;

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
  // Let go of before they were ever shown, when more than a whole log arrives within a frame.
  const droppedUnseen = useRef(0);
  const flush = useCallback(() => {
    const added = pending.current;
    const unseen = droppedUnseen.current;
    pending.current = [];
    droppedUnseen.current = 0;
    setLog((current) => {
      const next = appendEntries(current, added);
      return unseen > 0 ? { ...next, dropped: next.dropped + unseen } : next;
    });
  }, []);
  const add = useCallback(
    (kind: LogKind, text: string, details: LogDetails = {}) => {
      const entry: LogEntry = { id: nextId.current++, kind, text, at: Date.now(), ...details };
      const waiting = pending.current.push(entry);
      if (waiting === 1) scheduleFlush(flush);
      if (waiting > LOG_LIMIT) {
        pending.current.shift();
        droppedUnseen.current += 1;
      }
    },
    [flush],
  );
  const clear = useCallback(() => {
    pending.current = [];
    droppedUnseen.current = 0;
    setLog(EMPTY_LOG);
  }, []);
  return { log, add, clear };
}
