import { describeBytes } from './bytes';
import { describeClose } from './closeCodes';
import type { ConnectionState, Incoming } from './ReconnectingSocket';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The one-line status a page shows for its connection, and writes to its log. */
export function describeState(state: ConnectionState, maxAttempts: number): string {
  switch (state.status) {
    case 'idle':
      return 'Not connected';
    case 'connecting':
      return state.retry === 0
        ? 'Connecting…'
        : `Reconnecting… (retry ${state.retry} of ${maxAttempts})`;
    case 'open':
      return 'Connected';
    case 'waiting': {
      const what = state.retry === 1 ? 'Connection lost' : 'Could not reconnect';
      const why = describeClose(state.lastClose.code, state.lastClose.reason);
      return `${what} (${why}). Reconnecting in ${seconds(state.delayMs)} (retry ${state.retry} of ${maxAttempts})`;
    }
    case 'closed':
      switch (state.why) {
        case 'user':
          return 'Disconnected';
        case 'refused':
          return `Closed: ${describeClose(state.close.code, state.close.reason)}`;
        case 'gave-up':
          return `Gave up after ${maxAttempts} retries: ${describeClose(state.close.code, state.close.reason)}`;
      }
  }
}

/** A received message as the log shows it. */
export function describeIncoming(message: Incoming): string {
  switch (message.kind) {
    case 'text':
      return message.text;
    case 'binary':
      return describeBytes(message.data);
    case 'error':
      return `The server could not take a message: ${message.detail}`;
  }
}
