import { useCallback, useRef, useState } from 'react';
import {
  appendEntries,
  applyChanges,
  EMPTY_LOG,
  LOG_LIMIT,
  type LogChange,
  type LogDetails,
  type LogEntry,
  type LogKind,
  type MessageLog,
} from '../log/messageLog';

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
  const changes = useRef<LogChange[]>([]);
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
