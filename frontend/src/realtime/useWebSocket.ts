import { useCallback, useEffect, useRef, useState } from 'react';

export type SocketState =
  | { readonly status: 'idle' }
  | { readonly status: 'connecting' }
  | { readonly status: 'open'; readonly protocol: string }
  | {
      readonly status: 'closed';
      readonly code: number;
      readonly reason: string;
      readonly byUser: boolean;
    };

export type SocketData = string | ArrayBuffer;

export interface SocketOptions {
  /** Called at each connect, so the URL and its credential can change between attempts. */
  readonly url: () => string;
  readonly protocols?: readonly string[];
  readonly onMessage: (data: SocketData) => void;
  /** Open as the component mounts (the Echo page) rather than on `connect()` alone. */
  readonly connectOnMount?: boolean;
}

export interface Socket {
  readonly state: SocketState;
  readonly connect: () => void;
  readonly disconnect: () => void;
  /** Sends if the socket is open and returns true; otherwise sends nothing and returns false. */
  readonly send: (data: string | ArrayBuffer) => boolean;
}

export const CLOSED_BY_USER = 'closed by the user';

/** One native WebSocket per component, closed when the component unmounts. */
export function useWebSocket({
  url,
  protocols = [],
  onMessage,
  connectOnMount = false,
}: SocketOptions): Socket {
  const [state, setState] = useState<SocketState>({ status: 'idle' });
  const socketRef = useRef<WebSocket | null>(null);
  // The latest callbacks, so that a new render never reopens the socket.
  const optionsRef = useRef({ url, protocols, onMessage });
  useEffect(() => {
    optionsRef.current = { url, protocols, onMessage };
  });

  const dropSocket = useCallback((code: number, reason: string) => {
    const socket = socketRef.current;
    socketRef.current = null; // handlers of a dropped socket check this and stay silent
    socket?.close(code, reason);
  }, []);

  const connect = useCallback(() => {
    dropSocket(1000, 'reconnecting');
    const options = optionsRef.current;
    let socket: WebSocket;
    try {
      socket = new WebSocket(options.url(), [...options.protocols]);
    } catch (error) {
      setState({ status: 'closed', code: 1006, reason: String(error), byUser: false });
      return;
    }
    socket.binaryType = 'arraybuffer';
    socketRef.current = socket;
    setState({ status: 'connecting' });
    socket.onopen = () => {
      if (socketRef.current === socket) setState({ status: 'open', protocol: socket.protocol });
    };
    socket.onmessage = (event: MessageEvent<SocketData>) => {
      if (socketRef.current === socket) optionsRef.current.onMessage(event.data);
    };
    socket.onclose = (event) => {
      if (socketRef.current !== socket) return;
      socketRef.current = null;
      setState({ status: 'closed', code: event.code, reason: event.reason, byUser: false });
    };
  }, [dropSocket]);

  const disconnect = useCallback(() => {
    if (socketRef.current === null) return;
    dropSocket(1000, CLOSED_BY_USER);
    setState({ status: 'closed', code: 1000, reason: CLOSED_BY_USER, byUser: true });
  }, [dropSocket]);

  const send = useCallback((data: string | ArrayBuffer) => {
    const socket = socketRef.current;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(data);
    return true;
  }, []);

  useEffect(() => {
    // Deferred by a microtask: under StrictMode React mounts, unmounts and mounts again
    // synchronously, and only the surviving mount should open a socket.
    let unmounted = false;
    if (connectOnMount) {
      queueMicrotask(() => {
        if (!unmounted) connect();
      });
    }
    return () => {
      unmounted = true;
      dropSocket(1000, 'page closed');
    };
  }, [connectOnMount, connect, dropSocket]);

  return { state, connect, disconnect, send };
}
