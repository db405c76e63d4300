import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../hooks/useConnection';
import type { ConnectionState } from '../realtime/connectionState';
import { ConnectionBar } from './ConnectionBar';

const lost = { kind: 'closed', code: 1006, reason: '' } as const;

function connection(state: ConnectionState, maxAttempts = Number.POSITIVE_INFINITY): Connection {
  return {
    state,
    rttMs: null,
    waiting: [],
    inFlight: [],
    maxAttempts,
    connectionId: null,
    connect: vi.fn(),
    disconnect: vi.fn(),
    reconnectNow: vi.fn(),
    send: vi.fn(),
  };
}

const waiting = (retry: number, until: number): ConnectionState => ({
  status: 'waiting',
  retry,
  delayMs: until - Date.now(),
  until,
  cause: lost,
  connectedBefore: true,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ConnectionBar', () => {
  it('counts down to the next try, and offers to try now', () => {
    const add = vi.fn(() => 1);
    render(
      <ConnectionBar
        connection={connection(waiting(1, Date.now() + 3_000))}
        add={add}
        update={vi.fn()}
      />,
    );
    expect(screen.getByTestId('connection-status').textContent).toMatch(/Reconnecting in 3 s/);
    act(() => vi.advanceTimersByTime(1_000));
    expect(screen.getByTestId('connection-status').textContent).toMatch(/Reconnecting in 2 s/);
    expect(screen.getByRole('button', { name: 'Reconnect now' })).toBeDefined();
  });

  it('logs a run of failures as one line that it updates, and a state only once', () => {
    const add = vi.fn(() => 7);
    const update = vi.fn();
    const props = { add, update };
    const { rerender } = render(
      <ConnectionBar connection={connection(waiting(1, Date.now()))} {...props} />,
    );
    rerender(<ConnectionBar connection={connection(waiting(2, Date.now()))} {...props} />);
    rerender(<ConnectionBar connection={connection(waiting(3, Date.now()))} {...props} />);
    expect(add).toHaveBeenCalledTimes(1);
    expect(update).toHaveBeenLastCalledWith(
      7,
      'error',
      'Connection lost: the connection was cut, or the server could not be reached (1006 abnormal closure). Reconnecting… (2 retries failed)',
    );
    const open = connection({ status: 'open', protocol: 'realtime.json.v1' });
    rerender(<ConnectionBar connection={open} {...props} />);
    rerender(<ConnectionBar connection={{ ...open }} {...props} />); // the same state again
    expect(add).toHaveBeenCalledTimes(2);
    expect(add).toHaveBeenLastCalledWith('event', 'Connected');
  });

  it('shows the connection’s own retry limit', () => {
    const close = { status: 'closed', cause: lost, why: 'gave-up' } as const;
    render(
      <ConnectionBar connection={connection(close, 3)} add={vi.fn(() => 1)} update={vi.fn()} />,
    );
    expect(screen.getByTestId('connection-status').textContent).toMatch(/^Gave up after 3 retries/);
  });
});
