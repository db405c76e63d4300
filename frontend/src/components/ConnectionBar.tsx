import { useEffect, useRef } from 'react';
import type { Connection } from '../hooks/useConnection';
import { useNow } from '../hooks/useNow';
import type { LogKind } from '../log/messageLog';
import {
  type ConnectionState,
  canRetryNow,
  describeState,
  describeStateForLog,
  isActive,
  isTrouble,
  stateLook,
} from '../realtime/connectionState';

interface ConnectionBarProps {
  readonly connection: Connection;
  /** Each change of state goes into the page's log too, so the log tells the whole story. */
  readonly add: (kind: LogKind, text: string) => number;
  readonly update: (id: number, kind: LogKind, text: string) => void;
  /** Connect and Disconnect buttons; pages with a form of their own (Items, Chat) have theirs. */
  readonly showActions?: boolean;
}

/**
 * Writes each state to the log once. A run of failed retries is one line that counts them,
 * not a line per try; a state seen before (an effect run again by a hot update) is not logged.
 */
function useStateLog(
  state: ConnectionState,
  maxAttempts: number,
  connectionId: string | null,
  add: ConnectionBarProps['add'],
  update: ConnectionBarProps['update'],
) {
  const logged = useRef<ConnectionState | null>(null);
  const troubleLine = useRef<number | null>(null);
  const connectedLine = useRef<number | null>(null);
  useEffect(() => {
    // The server names the connection just after it opens: the line says which it was, so
    // that a report can be matched to the server's log.
    if (state.status === 'open' && connectionId !== null && connectedLine.current !== null) {
      update(connectedLine.current, 'event', `Connected (connection ${connectionId})`);
      connectedLine.current = null;
    }
  }, [state, connectionId, update]);
  useEffect(() => {
    if (logged.current === state) return;
    logged.current = state;
    if (state.status === 'idle' || state.status === 'connecting') return;
    const text = describeStateForLog(state, maxAttempts);
    if (!isTrouble(state)) {
      troubleLine.current = null;
      connectedLine.current = add('event', text);
    } else if (troubleLine.current === null) {
      troubleLine.current = add('error', text);
    } else {
      update(troubleLine.current, 'error', text);
    }
    if (state.status === 'closed') troubleLine.current = null;
  }, [state, maxAttempts, add, update]);
}

export function ConnectionBar({ connection, add, update, showActions = true }: ConnectionBarProps) {
  const { state, rttMs, waiting, maxAttempts, connectionId } = connection;
  const now = useNow(state.status === 'waiting');
  const text = describeState(state, { maxAttempts, now });
  useStateLog(state, maxAttempts, connectionId, add, update);

  return (
    <div className="connection-bar">
      <p className={`status status-${stateLook(state)}`} role="status" aria-live="polite">
        <span className="status-dot" aria-hidden="true" />
        <span data-testid="connection-status">{text}</span>
      </p>
      <div className="connection-facts">
        {state.status === 'open' && connectionId !== null && (
          <span data-testid="connection-id" title="The server's id for this connection">
            {connectionId}
          </span>
        )}
        {state.status === 'open' && rttMs !== null && (
          <span data-testid="round-trip" title="Round trip of the last ping">
            {rttMs} ms
          </span>
        )}
        {waiting.length > 0 && (
          <span className="queued" data-testid="queued">
            {waiting.length} waiting
          </span>
        )}
      </div>
      <div className="connection-actions">
        {canRetryNow(state) && (
          <button type="button" onClick={connection.reconnectNow}>
            Reconnect now
          </button>
        )}
        {showActions &&
          (isActive(state) ? (
            <button type="button" className="secondary" onClick={connection.disconnect}>
              Disconnect
            </button>
          ) : (
            !canRetryNow(state) && (
              <button type="button" onClick={connection.connect}>
                Connect
              </button>
            )
          ))}
      </div>
    </div>
  );
}
