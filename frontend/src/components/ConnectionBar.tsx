import { useEffect } from 'react';
import type { LogKind } from '../log/messageLog';
import { describeState } from '../realtime/describe';
import { DEFAULT_BACKOFF } from '../realtime/reconnectPolicy';
import type { Connection } from '../realtime/useConnection';

interface ConnectionBarProps {
  readonly connection: Connection;
  /** Writes each change of state into the page's log too, so the log tells the whole story. */
  readonly onChange: (kind: LogKind, text: string) => void;
  /** Connect and Disconnect buttons; the Items page has its own, in its form. */
  readonly showActions?: boolean;
}

export function ConnectionBar({ connection, onChange, showActions = true }: ConnectionBarProps) {
  const { state, rttMs, queued } = connection;
  const text = describeState(state, DEFAULT_BACKOFF.maxAttempts);

  useEffect(() => {
    // Each wait is logged with its delay; the tries in between only show in the bar.
    if (state.status === 'idle' || state.status === 'connecting') return;
    const trouble =
      state.status === 'waiting' || (state.status === 'closed' && state.why !== 'user');
    onChange(trouble ? 'error' : 'event', text);
  }, [state, text, onChange]);

  const live = state.status === 'open' || state.status === 'connecting';
  const canRetryNow =
    state.status === 'waiting' || (state.status === 'closed' && state.why === 'gave-up');
  return (
    <div className="connection-bar">
      <p className={`status status-${state.status}`} role="status" aria-live="polite">
        <span className="status-dot" aria-hidden="true" />
        <span data-testid="connection-status">{text}</span>
      </p>
      <div className="connection-facts">
        {state.status === 'open' && rttMs !== null && (
          <span data-testid="round-trip" title="Round trip of the last ping">
            {rttMs} ms
          </span>
        )}
        {queued.length > 0 && (
          <span className="queued" data-testid="queued">
            {queued.length} waiting
          </span>
        )}
      </div>
      <div className="connection-actions">
        {canRetryNow && (
          <button type="button" onClick={connection.reconnectNow}>
            Reconnect now
          </button>
        )}
        {showActions &&
          (live || state.status === 'waiting' ? (
            <button type="button" className="secondary" onClick={connection.disconnect}>
              Disconnect
            </button>
          ) : (
            !canRetryNow && (
              <button type="button" onClick={connection.connect}>
                Connect
              </button>
            )
          ))}
      </div>
    </div>
  );
}
