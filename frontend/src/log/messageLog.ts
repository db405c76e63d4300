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
  const entries = [...log.entries, entry];
  const excess = Math.max(0, entries.length - limit);
  return { entries: entries.slice(excess), dropped: log.dropped + excess };
}

export function useMessageLog() {
  const [log, setLog] = useState<MessageLog>(EMPTY_LOG);
  const nextId = useRef(1);
  const add = useCallback((kind: LogKind, text: string, details: LogDetails = {}) => {
    const entry: LogEntry = { id: nextId.current++, kind, text, at: Date.now(), ...details };
    setLog((current) => appendToLog(current, entry));
  }, []);
  const clear = useCallback(() => setLog(EMPTY_LOG), []);
  return { log, add, clear };
}
