import { answerTo, type Codec, codecFor, type Incoming, TRY_AGAIN_LATER } from './codec';
import { type Cause, type ConnectionState, canRetryNow } from './connectionState';
import { Outbox, type OutgoingMessage } from './outbox';
import { JSON_V1, TEXT_V1 } from './protocol';
import {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  HELD_MESSAGE_BACKOFF,
  isTicketRefusal,
  shouldReconnect,
} from './reconnectPolicy';

export interface ConnectionSnapshot {
  readonly state: ConnectionState;
  /** The last round trip of a ping, in milliseconds; null before the first pong. */
  readonly rttMs: number | null;
  /** Sent while there was no connection: they go out, in order, when there is one. */
  readonly waiting: readonly OutgoingMessage[];
  /** On the wire and not answered yet: sent again if the connection dies first. */
  readonly inFlight: readonly OutgoingMessage[];
  /** The retry limit of this connection (Infinity: it never gives up by itself). */
  readonly maxAttempts: number;
  /** The server's id for the current connection, as its log lines carry it. */
  readonly connectionId: string | null;
}

export type SendResult = 'sent' | 'queued' | 'full' | 'closed';

/**
 * Thrown by a `url` function for a refusal that retrying will not mend (no ticket without a
 * credential, say); its message says why, in words for the page. Any other error thrown there
 * counts as a failed attempt, tried again; its message should say what failed, too.
 */
export class ConnectionRefused extends Error {}

/** What the server's first message on a connection says (realtime.json.v1). */
export interface Welcome {
  readonly connectionId: string;
  /** Who sends on this connection: given back on the page's later attempts, the server
   * recognises a message sent again by it and the message's id (the chat does). */
  readonly senderKey: string;
}

export interface ConnectionOptions {
  /**
   * Called before each attempt, so that a credential can be fresh for every one (a single-use
   * ticket, say). A rejected promise counts as a failed attempt; `ConnectionRefused` ends them.
   */
  readonly url: () => string | Promise<string>;
  /** Offered in this order of preference. */
  readonly protocols?: readonly string[];
  readonly onMessage?: (message: Incoming) => void;
  readonly onWelcome?: (welcome: Welcome) => void;
  /**
   * Each time a connection opens, before what waits goes out: `send` writes a frame at once,
   * untracked. A client whose state lives on the connection (the channels it follows) sets
   * it up again here, so that the messages sent again find it in place.
   */
  readonly onOpen?: (send: (frame: string) => void) => void;
  /**
   * The server answers each binary message with one binary message, in order (the echo): a
   * binary message is then tracked until its answer, like text, and sent again if need be.
   */
  readonly answersBinaryInOrder?: boolean;
  readonly backoff?: Partial<BackoffOptions>;
  /** An attempt that has not opened by then is abandoned and counts as a failure. */
  readonly connectTimeoutMs?: number;
  /** How often to ping (realtime.json.v1 only); a ping unanswered by the next is a dead peer. */
  readonly heartbeatMs?: number;
  /** Messages waiting or unanswered at once; beyond it `send` refuses ('full'). */
  readonly queueLimit?: number;
  readonly random?: () => number;
}

export const DEFAULT_PROTOCOLS = [JSON_V1, TEXT_V1] as const;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_QUEUE_LIMIT = 50;
/** A timer that fires this much later than asked means the machine slept (a closed laptop). */
export const SLEEP_GAP_MS = 5_000;
const TICK_MS = 1_000;

function randomPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * One logical connection over a succession of native WebSockets: it reconnects by itself
 * without limit (capped backoff), decides by close code whether to, notices dead peers, the
 * browser going offline and the machine waking from sleep, and tracks each message until it
 * is answered. Framework-free; `useConnection` binds it to React.
 */
export class ReconnectingSocket {
  private options: ConnectionOptions;
  private socket: WebSocket | null = null;
  private codec: Codec | null = null;
  private snapshot: ConnectionSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly outbox: Outbox;
  // Unique across page loads: the server recognises a message sent again by its id.
  private readonly idPrefix = randomPrefix();
  private nextId = 1;
  private failures = 0;
  // Since the last connect(): whether a connection opened, and the tickets refused in a row.
  private connectedBefore = false;
  private ticketRefusals = 0;
  private attempt = 0; // bumped by every open and drop: a late answer to an old one is ignored
  private timers: ReturnType<typeof setTimeout>[] = [];
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private lastTick = 0;
  private pendingPing: { id: string; sentAt: number } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retries = 0;
  private attached = false;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.outbox = new Outbox(options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
    this.snapshot = {
      state: { status: 'idle' },
      rttMs: null,
      waiting: [],
      inFlight: [],
      maxAttempts: this.backoff().maxAttempts,
      connectionId: null,
    };
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
    this.connectedBefore = false;
    this.ticketRefusals = 0;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.goOffline();
      return;
    }
    this.open();
  };

  /**
   * Skip the wait (the count of failed tries goes on), or start afresh after giving up; never
   * undoes a Disconnect or a refusal.
   */
  readonly reconnectNow = (): void => {
    const { state } = this.snapshot;
    if (!canRetryNow(state)) return;
    if (state.status === 'waiting') this.open();
    else this.connect();
  };

  /** The user's own disconnect: close with 1000 and do not come back. */
  readonly disconnect = (): void => {
    this.dropSocket(1000, 'closed by the user');
    this.clearTimers();
    this.setState({
      status: 'closed',
      cause: { kind: 'closed', code: 1000, reason: 'closed by the user' },
      why: 'user',
    });
  };

  /** Sends now if open; queues while the connection is on its way back; refuses otherwise. */
  send(data: string | ArrayBuffer): { result: SendResult; id: string } {
    return this.sendMessage({ id: `${this.idPrefix}-${this.nextId++}`, data });
  }

  private sendMessage(message: OutgoingMessage): { result: SendResult; id: string } {
    const { status } = this.snapshot.state;
    if (status === 'closed' || status === 'idle') return { result: 'closed', id: message.id };
    if (!this.outbox.enqueue(message)) return { result: 'full', id: message.id };
    if (status === 'open' && this.socket !== null) {
      this.flush();
      return { result: 'sent', id: message.id };
    }
    this.publishOutbox();
    return { result: 'queued', id: message.id };
  }

  /**
   * A message that is a whole frame of its own (`frame(id)`, realtime.json.v1), tracked like
   * text until a reply names its id: queued, sent in order, sent again after a reconnect.
   */
  sendFrame(frame: (id: string) => string): { result: SendResult; id: string } {
    const id = `${this.idPrefix}-${this.nextId++}`;
    return this.sendMessage({ id, data: frame(id), frame: true });
  }

  /** Writes a frame now, untracked, if a connection is open; false (nothing sent) if not. */
  sendNow(frame: string): boolean {
    if (this.snapshot.state.status !== 'open' || this.socket === null) return false;
    this.socket.send(frame);
    return true;
  }

  /** Watch the network, the tab's visibility and the clock (while a page uses the connection). */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisibilityChange);
    this.lastTick = Date.now();
    this.ticker = setInterval(this.onTick, TICK_MS);
  }

  /** Close the socket, stop all timers and listeners: the page is gone. */
  stop(): void {
    this.attached = false;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.dropSocket(1000, 'page closed');
    this.clearTimers();
    this.setState({ status: 'idle' });
  }

  // --- the connection's life ---------------------------------------------------------------

  private open(): void {
    this.dropSocket(1000, 'reconnecting');
    this.clearTimers();
    const attempt = this.attempt;
    this.setState({ status: 'connecting', retry: this.failures });
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.later(timeoutMs, () => {
      if (this.attempt === attempt) {
        this.lost({ kind: 'stalled', detail: `no answer within ${timeoutMs / 1000} s` });
      }
    });
    let url: string | Promise<string>;
    try {
      url = this.options.url();
    } catch (error) {
      this.couldNotPrepare(error);
      return;
    }
    if (typeof url === 'string') {
      this.createSocket(url);
      return;
    }
    // Later answers are for this attempt only: it may have been dropped meanwhile.
    url.then(
      (resolved) => {
        if (this.attempt === attempt) this.createSocket(resolved);
      },
      (error: unknown) => {
        if (this.attempt === attempt) this.couldNotPrepare(error);
      },
    );
  }

  private couldNotPrepare(error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error);
    if (error instanceof ConnectionRefused) this.refused({ kind: 'not-opened', detail });
    else this.lost({ kind: 'not-opened', detail });
  }

  private createSocket(url: string): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, [...(this.options.protocols ?? DEFAULT_PROTOCOLS)]);
    } catch (error) {
      // A URL the browser refuses to even try will not get better by retrying.
      const detail = error instanceof Error ? error.message : String(error);
      this.refused({ kind: 'not-opened', detail: `the browser would not open it: ${detail}` });
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.socket === socket) this.onData(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) {
        this.lost({ kind: 'closed', code: event.code, reason: event.reason });
      }
    };
  }

  private onOpen(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.clearTimers();
    this.connectedBefore = true;
    this.codec = codecFor(socket.protocol);
    // Counted afresh only once the connection has lasted: a refusal is a close right after the
    // open (so that its reason can be read), and must not reset the count of refusals.
    this.later(this.backoff().stableAfterMs, () => {
      this.failures = 0;
      this.ticketRefusals = 0;
    });
    this.setState({ status: 'open', protocol: socket.protocol });
    this.options.onOpen?.((frame) => socket.send(frame));
    this.flush();
    if (this.codec.encodePing !== null) this.startHeartbeat(socket, this.codec.encodePing);
  }

  private onData(data: string | ArrayBuffer): void {
    if (typeof data !== 'string') {
      const replyTo = this.options.answersBinaryInOrder ? this.outbox.oldestBinary() : null;
      if (replyTo !== null && this.outbox.answered(replyTo)) this.publishOutbox();
      this.options.onMessage?.({ kind: 'binary', data, replyTo });
      return;
    }
    const decoded = (this.codec ?? codecFor('')).decode(data);
    if (decoded.kind === 'unknown') {
      console.warn('ignored a message outside the protocol:', data);
    } else if (decoded.kind === 'welcome') {
      this.publish({ connectionId: decoded.connectionId });
      this.options.onWelcome?.({
        connectionId: decoded.connectionId,
        senderKey: decoded.senderKey,
      });
    } else if (decoded.kind === 'pong') {
      if (this.pendingPing?.id === decoded.id) {
        this.pendingPing = null;
        this.publish({ rttMs: Math.max(0, Date.now() - decoded.sentAt) });
      }
    } else {
      const { incoming } = decoded;
      const replyTo = answerTo(incoming);
      if (replyTo !== null) {
        if (incoming.kind === 'error' && TRY_AGAIN_LATER.has(incoming.code)) {
          if (this.outbox.hold(replyTo)) this.retryHeldLater();
        } else {
          this.retries = 0;
          if (this.outbox.answered(replyTo)) this.publishOutbox();
        }
        if (this.outbox.isRepeatedReply(replyTo, data)) return; // shown once already
      }
      this.options.onMessage?.(incoming);
    }
  }

  /** Sends the messages the server could not take yet again, after a growing pause. */
  private retryHeldLater(): void {
    this.publishOutbox();
    if (this.retryTimer !== null) return;
    const delayMs = backoffDelay(this.retries, HELD_MESSAGE_BACKOFF, this.options.random);
    this.retries += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.outbox.releaseHeld();
      if (this.snapshot.state.status === 'open') this.flush();
      else this.publishOutbox();
    }, delayMs);
  }

  /** Everything queued goes out, in order, each tracked until answered where it can be. */
  private flush(): void {
    const socket = this.socket;
    const codec = this.codec;
    if (socket === null || codec === null) return;
    for (const message of this.outbox.takeQueued()) {
      if (message.frame === true) {
        socket.send(message.data);
        this.outbox.sent(message, true);
      } else if (typeof message.data === 'string') {
        socket.send(codec.encodeText(message.id, message.data));
        this.outbox.sent(message, codec.tracksReplies);
      } else {
        socket.send(message.data);
        this.outbox.sent(message, this.options.answersBinaryInOrder === true);
      }
    }
    this.publishOutbox();
  }

  /** The connection ended without the user asking: retry, or stop for good. */
  private lost(cause: Cause): void {
    this.dropSocket(1000, 'reconnecting');
    this.clearTimers();
    if (cause.kind === 'closed') {
      if (!shouldReconnect(cause.code, cause.reason, this.ticketRefusals)) {
        this.refused(cause);
        return;
      }
      if (isTicketRefusal(cause.code, cause.reason)) this.ticketRefusals += 1;
    }
    this.failures += 1;
    const backoff = this.backoff();
    if (this.failures > backoff.maxAttempts) {
      this.setState({ status: 'closed', cause, why: 'gave-up' });
      return;
    }
    const delayMs = backoffDelay(this.failures - 1, backoff, this.options.random);
    this.setState({
      status: 'waiting',
      retry: this.failures,
      delayMs,
      until: Date.now() + delayMs,
      cause,
      connectedBefore: this.connectedBefore,
    });
    this.later(delayMs, () => this.open());
  }

  private refused(cause: Cause): void {
    this.dropSocket(1000, 'refused');
    this.clearTimers();
    this.setState({ status: 'closed', cause, why: 'refused' });
  }

  private goOffline(): void {
    this.dropSocket(1000, 'offline');
    this.clearTimers();
    this.setState({ status: 'offline' });
  }

  private startHeartbeat(socket: WebSocket, encodePing: (id: string, sentAt: number) => string) {
    const beat = () => {
      if (this.socket !== socket) return;
      if (this.pendingPing !== null) {
        const waited = ((Date.now() - this.pendingPing.sentAt) / 1000).toFixed(1);
        this.lost({ kind: 'stalled', detail: `no answer to a ping for ${waited} s` });
        return;
      }
      const ping = { id: `p${this.nextId++}`, sentAt: Date.now() };
      this.pendingPing = ping;
      socket.send(encodePing(ping.id, ping.sentAt));
    };
    beat(); // a first round trip at once
    this.heartbeat = setInterval(beat, this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  }

  /** Forget the socket at once: a dead peer may not confirm a close for minutes. */
  private dropSocket(code: number, reason: string): void {
    this.attempt += 1;
    const socket = this.socket;
    this.socket = null;
    this.codec = null;
    this.pendingPing = null;
    this.outbox.requeueUnanswered();
    this.publishOutbox();
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close(code, reason);
  }

  private readonly onOnline = (): void => {
    if (this.snapshot.state.status === 'offline') this.connect();
    else this.reconnectNow();
  };

  private readonly onOffline = (): void => {
    const { status } = this.snapshot.state;
    if (status === 'open' || status === 'connecting' || status === 'waiting') this.goOffline();
  };

  private readonly onVisibilityChange = (): void => {
    if (document.visibilityState === 'visible') this.reconnectNow();
  };

  /** Timers stop while a machine sleeps: a tick that comes far too late means it woke. */
  private readonly onTick = (): void => {
    const now = Date.now();
    const slept = now - this.lastTick > TICK_MS + SLEEP_GAP_MS;
    this.lastTick = now;
    if (!slept) return;
    const { status } = this.snapshot.state;
    if (status === 'open' || status === 'connecting') {
      // The old socket is most likely dead, and nothing has told the browser yet.
      this.lost({ kind: 'stalled', detail: 'the computer woke from sleep' });
    }
    this.reconnectNow(); // no backoff: the network was not the problem
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
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private setState(state: ConnectionState): void {
    // A round trip, and an id, belong to one connection.
    const connectionId = state.status === 'open' ? this.snapshot.connectionId : null;
    this.publish({ state, rttMs: null, maxAttempts: this.backoff().maxAttempts, connectionId });
  }

  private publishOutbox(): void {
    const { waiting, inFlight } = this.outbox;
    if (waiting !== this.snapshot.waiting || inFlight !== this.snapshot.inFlight) {
      this.publish({ waiting, inFlight });
    }
  }

  private publish(change: Partial<ConnectionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}
