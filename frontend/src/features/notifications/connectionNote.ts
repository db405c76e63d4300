import type { ConnectionState } from '../../realtime/connectionState';

/** What the bell says of its connection while it cannot hear anything new; null when it can. */
export function connectionNote(state: ConnectionState): string | null {
  switch (state.status) {
    case 'open':
      return null;
    case 'idle':
    case 'connecting':
      return 'Connecting: new notifications show as soon as the connection is up.';
    case 'waiting':
      return 'Reconnecting: what arrives meanwhile shows once the connection is back.';
    case 'offline':
      return 'Offline: what arrives meanwhile shows once the network is back.';
    case 'closed':
      return 'Not connected: new notifications show after a reload.';
  }
}
