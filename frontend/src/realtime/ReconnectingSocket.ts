import { type ChatMessage, decodeServerMessage, encodeClientMessage } from './messages';
import { JSON_V1, TEXT_V1 } from './protocol';
import {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  shouldReconnect,
} from './reconnectPolicy';
import { SendQueue } from './sendQueue';

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export type ConnectionState =
  | { readonly status: 'idle' }
  /** `retry`: 0 for a first connect, then the count of retries since the last healthy one. */
  | { readonly status: 'connecting'; readonly retry: number }
  | { readonly status: 'open'; readonly protocol: string }
  /** Between a lost connection and the next try. */
  | {
      readonly status: 'waiting';
      /** The retry that comes after the wait. */
      readonly retry: number;
      readonly delayMs: number;
      readonly lastClose: CloseInfo;
    }
  | {
      readonly status: 'closed';
      readonly close: CloseInfo;
      /** user: Disconnect; refused: a code not worth retrying; gave-up: too many failures. */
      readonly why: 'user' | 'refused' | 'gave-up';
    };

export interface QueuedMessage {
  readonly id: string;
  readonly data: string | ArrayBuffer;
}

export interface ConnectionSnapshot {
  readonly state: ConnectionState;
  /** The last round trip of a ping, in milliseconds; null before the first pong. */
  readonly rttMs: number | null;
  /** Sent while the connection was down, to go out in order when it opens. */
  readonly queued: readonly QueuedMessage[];
}

export type Incoming =
  | { readonly kind: 'text'; readonly text: string; readonly replyTo: string | null }
  | { readonly kind: 'binary'; readonly data: ArrayBuffer }
  | { readonly kind: 'error'; readonly code: string; readonly detail: string }
  /** What happens in a chat room (realtime.json.v1 only). */
  | { readonly kind: 'chat'; readonly message: ChatMessage };

export type SendResult = 'sent' | 'queued' | 'full' | 'closed';

export interface ConnectionOptions {
  /** Called before each attempt: a URL or credential can change between attempts. */
  readonly url: () => string;
  /** Offered in this order of preference. */
  readonly protocols?: readonly string[];
  readonly onMessage?: (message: Incoming) => void;
  readonly backoff?: Partial<BackoffOptions>;
  /** An attempt that has not opened by then is abandoned and counts as a failure. */
  readonly connectTimeoutMs?: number;
  /** How often to ping (realtime.json.v1 only); a ping unanswered by the next is a dead peer. */
  readonly heartbeatMs?: number;
  readonly queueLimit?: number;
  readonly random?: () => number;
}

export const DEFAULT_PROTOCOLS = [JSON_V1, TEXT_V1] as const;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_QUEUE_LIMIT = 50;

const LOCALLY_DETECTED = 1006; // what the browser reports for a connection lost without a close

/**
 * One logical connection over a succession of native WebSockets: it reconnects by itself,
 * decides by close code whether to, notices dead peers, and queues what is sent meanwhile.
 * Framework-free; `useConnection` binds it to React.
 */
export class ReconnectingSocket {
  private options: ConnectionOptions;
  private socket: WebSocket | null = null;
  private snapshot: ConnectionSnapshot = { state: { status: 'idle' }, rttMs: null, queued: [] };
  private readonly listeners = new Set<() => void>();
  private readonly queue: SendQueue<QueuedMessage>;
  private failures = 0;
  private nextMessageId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private pendingPing: { id: string; sentAt: number } | null = null;
  private attached = false;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.queue = new SendQueue(options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
  }

  // --- for React's useSyncExternalStore -------------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ConnectionSnapshot => this.snapshot;

  /** Newer callbacks (a new render's url and onMessage) without touching the socket. */
  update(options: ConnectionOptions): void {
    this.options = options;
  }

  // --- what a page does -------------------------------------------------------------------

  readonly connect = (): void => {
    this.failures = 0;
    this.open();
  };

  /** Skip the wait, or come back after giving up; never undoes a Disconnect or a refusal. */
  readonly reconnectNow = (): void => {
    const { state } = this.snapshot;
    if (state.status === 'waiting' || (state.status === 'closed' && state.why === 'gave-up')) {
      this.connect();
    }
  };

  /** The user's own disconnect: close with 1000 and do not come back. */
  readonly disconnect = (): void => {
    this.dropSocket(1000, 'closed by the user');
    this.clearTimers();
    this.setState({
      status: 'closed',
      close: { code: 1000, reason: 'closed by the user' },
      why: 'user',
    });
  };

  /** Sends now if open; queues while a connection is on its way; refuses when neither. */
  send(data: string | ArrayBuffer): { result: SendResult; id: string } {
    const id = `m${this.nextMessageId++}`;
    const { status } = this.snapshot.state;
    if (status === 'open' && this.socket !== null) {
      this.transmit({ id, data });
      return { result: 'sent', id };
    }
    if (status === 'connecting' || status === 'waiting') {
      if (!this.queue.push({ id, data })) return { result: 'full', id };
      this.publish({ queued: this.queue.contents });
      return { result: 'queued', id };
    }
    return { result: 'closed', id };
  }

  /** Watch the network and the tab's visibility (while a page uses the connection). */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisibilityChange);
  }

  /** Close the socket, stop all timers and listeners: the page is gone. */
  stop(): void {
    this.attached = false;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    this.dropSocket(1000, 'page closed');
    this.clearTimers();
    this.setState({ status: 'idle' });
  }

  // --- the connection's life ---------------------------------------------------------------

  private open(): void {
    this.dropSocket(1000, 'reconnecting');
    this.clearTimers();
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url(), [
        ...(this.options.protocols ?? DEFAULT_PROTOCOLS),
      ]);
    } catch (error) {
      // A URL the browser refuses to even try will not get better by retrying.
      this.setState({
        status: 'closed',
        close: { code: LOCALLY_DETECTED, reason: String(error) },
        why: 'refused',
      });
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.setState({ status: 'connecting', retry: this.failures });

    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.later(timeoutMs, () => {
      if (this.socket === socket && socket.readyState === WebSocket.CONNECTING) {
        this.lost({ code: LOCALLY_DETECTED, reason: `no answer within ${timeoutMs / 1000} s` });
      }
    });
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.socket === socket) this.onData(socket, event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.lost({ code: event.code, reason: event.reason });
    };
  }

  private onOpen(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.clearTimers();
    this.later(this.backoff().stableAfterMs, () => {
      this.failures = 0;
    });
    this.setState({ status: 'open', protocol: socket.protocol });
    for (const message of this.queue.drain()) this.transmit(message);
    this.publish({ queued: this.queue.contents });
    if (socket.protocol === JSON_V1) this.startHeartbeat(socket);
  }

  private onData(socket: WebSocket, data: string | ArrayBuffer): void {
    if (typeof data !== 'string') {
      this.options.onMessage?.({ kind: 'binary', data });
      return;
    }
    if (socket.protocol !== JSON_V1) {
      this.options.onMessage?.({ kind: 'text', text: data, replyTo: null });
      return;
    }
    const message = decodeServerMessage(data);
    if (message === null) {
      console.warn('ignored a message outside realtime.json.v1:', data);
    } else if (message.type === 'pong') {
      if (this.pendingPing?.id === message.id) {
        this.pendingPing = null;
        this.publish({ rttMs: Math.max(0, Date.now() - message.sent_at) });
      }
    } else if (message.type === 'text') {
      this.options.onMessage?.({ kind: 'text', text: message.text, replyTo: message.reply_to });
    } else if (message.type === 'error') {
      this.options.onMessage?.({ kind: 'error', code: message.code, detail: message.detail });
    } else {
      this.options.onMessage?.({ kind: 'chat', message });
    }
  }

  /** The connection ended without the user asking: retry, or stop for good. */
  private lost(close: CloseInfo): void {
    this.dropSocket(1000, 'reconnecting');
    this.clearTimers();
    if (!shouldReconnect(close.code)) {
      this.setState({ status: 'closed', close, why: 'refused' });
      return;
    }
    this.failures += 1;
    const backoff = this.backoff();
    if (this.failures > backoff.maxAttempts) {
      this.setState({ status: 'closed', close, why: 'gave-up' });
      return;
    }
    const delayMs = backoffDelay(this.failures - 1, backoff, this.options.random);
    this.setState({ status: 'waiting', retry: this.failures, delayMs, lastClose: close });
    this.later(delayMs, () => this.open());
  }

  private startHeartbeat(socket: WebSocket): void {
    const beat = () => {
      if (this.socket !== socket) return;
      if (this.pendingPing !== null) {
        const waited = ((Date.now() - this.pendingPing.sentAt) / 1000).toFixed(1);
        this.lost({ code: LOCALLY_DETECTED, reason: `no answer to a ping for ${waited} s` });
        return;
      }
      const ping = { id: `p${this.nextMessageId++}`, sentAt: Date.now() };
      this.pendingPing = ping;
      socket.send(encodeClientMessage({ type: 'ping', id: ping.id, sent_at: ping.sentAt }));
    };
    beat(); // a first round trip at once
    this.heartbeat = setInterval(beat, this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  }

  private transmit({ id, data }: QueuedMessage): void {
    const socket = this.socket;
    if (socket === null) return;
    if (typeof data === 'string' && socket.protocol === JSON_V1) {
      socket.send(encodeClientMessage({ type: 'text', id, text: data }));
    } else {
      socket.send(data);
    }
  }

  /** Forget the socket at once: a dead peer may not confirm a close for minutes. */
  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.pendingPing = null;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close(code, reason);
  }

  private readonly onOnline = (): void => this.reconnectNow();

  private readonly onVisibilityChange = (): void => {
    if (document.visibilityState === 'visible') this.reconnectNow();
  };

  // --- plumbing ------------------------------------------------------------------------------

  private backoff(): BackoffOptions {
    return { ...DEFAULT_BACKOFF, ...this.options.backoff };
  }

  private later(ms: number, callback: () => void): void {
    this.timers.push(setTimeout(callback, ms));
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private setState(state: ConnectionState): void {
    this.publish({ state, rttMs: null }); // a round trip belongs to one connection
  }

  private publish(change: Partial<ConnectionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}
