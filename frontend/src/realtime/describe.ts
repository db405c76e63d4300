import { describeClose } from './closeCodes';
import type { SocketData, SocketState } from './useWebSocket';

/** The one-line status a page shows for its connection. */
export function describeState(state: SocketState): string {
  switch (state.status) {
    case 'idle':
      return 'Not connected';
    case 'connecting':
      return 'Connecting…';
    case 'open':
      return 'Connected';
    case 'closed':
      return state.byUser ? 'Disconnected' : `Closed: ${describeClose(state.code, state.reason)}`;
  }
}

/** A received message as the log shows it. */
export function describeData(data: SocketData): string {
  return typeof data === 'string' ? data : `${data.byteLength} bytes of binary data`;
}
