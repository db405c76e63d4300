import { useEffect, useState, useSyncExternalStore } from 'react';
import {
  type ConnectionOptions,
  type ConnectionSnapshot,
  ReconnectingSocket,
  type SendResult,
} from '../realtime/ReconnectingSocket';

export interface Connection extends ConnectionSnapshot {
  readonly connect: () => void;
  readonly disconnect: () => void;
  readonly reconnectNow: () => void;
  readonly send: (data: string | ArrayBuffer) => { result: SendResult; id: string };
}

/**
 * A page's connection: one ReconnectingSocket per component, stopped on unmount.
 * Under StrictMode React mounts, unmounts and mounts again at once; opening is deferred by a
 * microtask so that only the mount that stays opens a socket.
 */
export function useConnection(
  options: ConnectionOptions & { readonly connectOnMount?: boolean },
): Connection {
  const [socket] = useState(() => new ReconnectingSocket(options));
  useEffect(() => socket.update(options));
  const snapshot = useSyncExternalStore(socket.subscribe, socket.getSnapshot);

  const { connectOnMount = false } = options;
  useEffect(() => {
    let unmounted = false;
    socket.attach();
    if (connectOnMount) {
      queueMicrotask(() => {
        if (!unmounted) socket.connect();
      });
    }
    return () => {
      unmounted = true;
      socket.stop();
    };
  }, [socket, connectOnMount]);

  return {
    ...snapshot,
    connect: socket.connect,
    disconnect: socket.disconnect,
    reconnectNow: socket.reconnectNow,
    send: (data) => socket.send(data),
  };
}
