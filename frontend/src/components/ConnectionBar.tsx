import { useEffect } from 'react';
import type { LogKind } from '../log/messageLog';
import { describeState } from '../realtime/describe';
import type { Socket } from '../realtime/useWebSocket';

interface ConnectionBarProps {
  readonly socket: Socket;
  /** Writes each change of state into the page's log too, so the log tells the whole story. */
  readonly onChange: (kind: LogKind, text: string) => void;
  /** Connect and Disconnect buttons; the Items page has its own, in its form. */
  readonly showActions?: boolean;
}

export function ConnectionBar({ socket, onChange, showActions = true }: ConnectionBarProps) {
  const { state } = socket;
  const text = describeState(state);

  useEffect(() => {
    if (state.status === 'idle' || state.status === 'connecting') return;
    const failed = state.status === 'closed' && !state.byUser && state.code !== 1000;
    onChange(failed ? 'error' : 'event', text);
  }, [state, text, onChange]);

  const live = state.status === 'open' || state.status === 'connecting';
  return (
    <div className="connection-bar">
      <p className={`status status-${state.status}`} role="status" aria-live="polite">
        <span className="status-dot" aria-hidden="true" />
        <span data-testid="connection-status">{text}</span>
      </p>
      {showActions && (
        <div className="connection-actions">
          {live ? (
            <button type="button" className="secondary" onClick={socket.disconnect}>
              Disconnect
            </button>
          ) : (
            <button type="button" onClick={socket.connect}>
              Connect
            </button>
          )}
        </div>
      )}
    </div>
  );
}
