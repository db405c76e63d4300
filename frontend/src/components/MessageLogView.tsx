import { useLayoutEffect, useRef } from 'react';
import type { Connection } from '../hooks/useConnection';
import type { LogEntry, LogKind, MessageLog } from '../log/messageLog';
import type { Delivery } from '../realtime/outbox';

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

export type DeliveryText = Readonly<Record<Delivery, string>>;

const DELIVERY_TEXT: DeliveryText = {
  waiting: 'waiting for the connection',
  sent: 'sent',
  answered: 'answered',
};

interface MessageLogViewProps {
  readonly log: MessageLog;
  readonly onClear: () => void;
  /** Which sent messages still wait for a connection. */
  readonly connection: Pick<Connection, 'waiting'>;
  /** How a page words each stage of a message (the chat says "delivered"). */
  readonly deliveryText?: DeliveryText;
}

/** Sent and not answered covers both a message on the wire and one no answer will name. */
function deliveryOf(entry: LogEntry, waiting: ReadonlySet<string>): Delivery | null {
  if (entry.messageId === undefined) return null;
  if (entry.answered) return 'answered';
  return waiting.has(entry.messageId) ? 'waiting' : 'sent';
}

export function MessageLogView({
  log,
  onClear,
  connection,
  deliveryText = DELIVERY_TEXT,
}: MessageLogViewProps) {
  const waiting = new Set(connection.waiting.map((message) => message.id));
  const listRef = useRef<HTMLDivElement>(null);
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
      {/* The live region is the scrolling box; the list inside it stays a plain list. */}
      <div
        ref={listRef}
        className="log-list"
        role="log"
        aria-live="polite"
        aria-labelledby="log-heading"
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
        tabIndex={0}
      >
        {log.entries.length === 0 ? (
          <p className="log-empty">No messages yet.</p>
        ) : (
          <ol>
            {log.entries.map((entry) => {
              const delivery = deliveryOf(entry, waiting);
              return (
                <li
                  key={entry.id}
                  className={`log-entry log-${entry.kind}`}
                  data-kind={entry.kind}
                  data-delivery={delivery ?? undefined}
                >
                  <span className="log-who">{entry.who ?? WHO[entry.kind]}</span>
                  <time className="log-time" dateTime={new Date(entry.at).toISOString()}>
                    {timeFormat.format(entry.at)}
                  </time>
                  <span className="log-text">{entry.text}</span>
                  {delivery !== null && (
                    <span className={`log-delivery log-${delivery}`}>{deliveryText[delivery]}</span>
                  )}
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </section>
  );
}
