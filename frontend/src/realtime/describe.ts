import { describeBytes } from './bytes';
import { describeClose } from './closeCodes';
import type { ChatMessage } from './messages';
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
    case 'chat':
      return describeChat(message.message);
  }
}

/** A chat room's event as a log line, in the guide's words where it has words for it. */
export function describeChat(message: ChatMessage): string {
  switch (message.type) {
    case 'chat':
      return message.text;
    case 'joined':
      return `Client #${message.client_id} joined the chat`;
    case 'left':
      return `Client #${message.client_id} left the chat`;
    case 'presence':
      return `Online: ${message.online.map((id) => `#${id}`).join(', ') || 'nobody'}`;
  }
}
