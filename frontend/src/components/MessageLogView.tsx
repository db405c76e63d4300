import { useLayoutEffect, useRef } from 'react';
import type { LogKind, MessageLog } from '../log/messageLog';

const WHO: Readonly<Record<LogKind, string>> = {
  sent: 'You',
  received: 'Server',
  event: 'Connection',
  error: 'Connection',
};

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Pixels from the bottom within which the log keeps following new messages. */
const FOLLOW_THRESHOLD = 48;

interface MessageLogViewProps {
  readonly log: MessageLog;
  readonly onClear: () => void;
  /** Ids of sent messages still waiting for the connection. */
  readonly waiting: ReadonlySet<string>;
}

export function MessageLogView({ log, onClear, waiting }: MessageLogViewProps) {
  const listRef = useRef<HTMLOListElement>(null);
  const following = useRef(true);

  // Follow new messages unless the reader has scrolled up to read older ones.
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && following.current && log.entries.length > 0) list.scrollTop = list.scrollHeight;
  }, [log]);

  const onScroll = () => {
    const list = listRef.current;
    if (list) {
      following.current = list.scrollHeight - list.scrollTop - list.clientHeight < FOLLOW_THRESHOLD;
    }
  };

  return (
    <section className="log" aria-labelledby="log-heading">
      <div className="log-header">
        <h2 id="log-heading">Messages</h2>
        <button
          type="button"
          className="link-button"
          onClick={onClear}
          disabled={log.entries.length === 0}
        >
          Clear
        </button>
      </div>
      {log.dropped > 0 && (
        <p className="log-note">{log.dropped} older messages are no longer shown.</p>
      )}
      <ol
        ref={listRef}
        className="log-list"
        role="log"
        aria-live="polite"
        aria-labelledby="log-heading"
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
        tabIndex={0}
      >
        {log.entries.length === 0 && <li className="log-empty">No messages yet.</li>}
        {log.entries.map((entry) => (
          <li key={entry.id} className={`log-entry log-${entry.kind}`} data-kind={entry.kind}>
            <span className="log-who">{entry.who ?? WHO[entry.kind]}</span>
            <time className="log-time" dateTime={new Date(entry.at).toISOString()}>
              {timeFormat.format(entry.at)}
            </time>
            <span className="log-text">{entry.text}</span>
            {entry.messageId !== undefined && waiting.has(entry.messageId) && (
              <span className="log-waiting">waiting for the connection</span>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
