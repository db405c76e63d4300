/**
 * One connection per tab for every channel its pages follow (`WS /ws/realtime`), over the
 * ReconnectingSocket every page uses: the same backoff, offline state, dead-peer pings, a
 * fresh ticket for each attempt, and publishes tracked until their `ack`, sent again with the
 * same id after a reconnect (the welcome's `sender_key` given back, so the server places
 * each once). Framework-free; `useChannel` (hooks/useChannel.ts) binds it to components.
 *
 * Many followers of one channel share one subscription on the wire; it is asked for when the
 * first follows, ended (`unsubscribe`) when the last leaves, and asked for again after every
 * reconnect with `since`, the position of the last event the page has, so that it gets
 * exactly what it missed. An event is handed to the followers once, whatever a reconnect
 * replays. The socket opens with the first channel and closes once none is followed.
 */
import { fetchMe } from '../api/me';
import { SESSION_CHANGED } from '../api/session';
import { requestTicket } from '../api/tickets';
import { type Incoming, TRY_AGAIN_LATER } from './codec';
import { type ChannelServerMessage, encodeClientMessage, type StreamPosition } from './messages';
import { JSON_V1 } from './protocol';
import {
  type ConnectionOptions,
  ConnectionRefused,
  type ConnectionSnapshot,
  ReconnectingSocket,
  type SendResult,
} from './ReconnectingSocket';
import { RoomPositions } from './roomPositions';
import { webSocketUrl } from './url';

export const REALTIME_ENDPOINT = '/ws/realtime';

export type ChannelEvent = Extract<ChannelServerMessage, { type: 'event' }>;
export type ChannelSync = Extract<ChannelServerMessage, { type: 'sync' }>;
export type ChannelAck = Extract<ChannelServerMessage, { type: 'ack' }>;

export interface Presence {
  /** The members online, sorted, in every process. */
  readonly online: readonly string[];
  /** False while the server cannot vouch for the other processes (it lists those it knows). */
  readonly complete: boolean;
}

/** A refusal of one request (a channel one may not follow, a publish that does not fit). */
export class ChannelError extends Error {
  constructor(
    /** The server's error code (`forbidden`, `invalid_payload`, …), or the client's own. */
    readonly code: string,
    /** The server's words for it. */
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * waiting: followed, for a connection to ask on; subscribing: asked, its history on the way;
 * live: its `sync` came, live events follow; refused: the server said no (`error`, asked
 * again after a reconnect); idle: nobody follows it.
 */
export type ChannelStatus = 'idle' | 'waiting' | 'subscribing' | 'live' | 'refused';

export interface ChannelSnapshot {
  readonly channel: string;
  readonly status: ChannelStatus;
  /** The latest events, oldest first, bounded (`eventsPerChannel`), each once. */
  readonly events: readonly ChannelEvent[];
  /** Where the page is in the channel's stream: the last event it has. */
  readonly position: StreamPosition | null;
  /** The last `sync`: whether the page has everything since it was last there. */
  readonly sync: ChannelSync | null;
  /** Who is in it, on a channel with presence (null before the first list, or without). */
  readonly presence: Presence | null;
  readonly error: ChannelError | null;
}

export interface Follower {
  /** How the page shows in the channel's presence, where it has one (a chat: its number). */
  readonly member?: string | null;
  /** Where to resume when the page has no position of its own yet (`epoch:offset`). */
  readonly since?: string | null;
  /** Each new event, in order, once: the replayed history first, then live ones. */
  readonly onEvent?: (event: ChannelEvent) => void;
  /** Each `sync`: the end of a catch-up (on following, and after each reconnect). */
  readonly onSync?: (sync: ChannelSync) => void;
  /** Each time the channel is asked for (on following, and after each reconnect): the events
   * up to the next `sync` are its catch-up. */
  readonly onSubscribe?: () => void;
  /** Each list of who is in the channel, where it has presence. */
  readonly onPresence?: (presence: Presence) => void;
}

/** A publish on its way: resolves with the `ack` (the channel holds it), or rejects. */
export type Publishing = Promise<ChannelAck> & {
  /** The message's id: the event that carries it has it as `message_id`. */
  readonly id: string;
  /** sent, or queued until there is a connection. */
  readonly result: SendResult;
};

export interface RealtimeOptions
  extends Omit<ConnectionOptions, 'url' | 'onMessage' | 'onWelcome' | 'onOpen' | 'protocols'> {
  /** The URL of each attempt; by default a ticket for the session, if any, or a guest's. */
  readonly url?: (senderKey: string | null) => string | Promise<string>;
  /** How many of the latest events each channel's snapshot keeps. */
  readonly eventsPerChannel?: number;
}

export const DEFAULT_EVENTS_PER_CHANNEL = 100;

/**
 * The URL of one attempt: with a session, a single-use ticket for it (asked for afresh each
 * time); without one, a guest's, which asks for nothing that would fail (and be logged).
 */
export async function realtimeUrl(senderKey: string | null): Promise<string> {
  const me = await fetchMe();
  let ticket: string | undefined;
  if (me.subject !== null) {
    try {
      ticket = await requestTicket(REALTIME_ENDPOINT);
    } catch (error) {
      // A cookie the server does not take after all (expired, say): in as a guest.
      if (!(error instanceof ConnectionRefused)) throw error;
    }
  }
  return webSocketUrl(REALTIME_ENDPOINT, { ticket, sender_key: senderKey ?? undefined });
}

interface Entry {
  readonly name: string;
  member: string | null;
  readonly since: string | null;
  readonly followers: Set<Follower>;
  /** The id of the last subscribe sent, which its answer names. */
  request: string | null;
  snapshot: ChannelSnapshot;
}

interface Pending {
  readonly resolve: (ack: ChannelAck) => void;
  readonly reject: (error: ChannelError) => void;
}

const idleChannel = (channel: string): ChannelSnapshot => ({
  channel,
  status: 'idle',
  events: [],
  position: null,
  sync: null,
  presence: null,
  error: null,
});

function parsePosition(since: string | null | undefined): StreamPosition | null {
  const match = since == null ? null : /^([^:]+):(\d+)$/.exec(since);
  return match === null ? null : { epoch: match[1] as string, offset: Number(match[2]) };
}

export class RealtimeConnection {
  private readonly socket: ReconnectingSocket;
  private readonly entries = new Map<string, Entry>();
  private readonly idle = new Map<string, ChannelSnapshot>();
  private readonly pending = new Map<string, Pending>();
  private readonly positions = new RoomPositions();
  private readonly listeners = new Set<() => void>();
  private readonly eventsPerChannel: number;
  private senderKey: string | null = null;
  private nextRequest = 1;
  private running = false;
  private closeCheck = false;
  private wasOpen = false;
  private stopWatchingSession: (() => void) | null = null;

  constructor(options: RealtimeOptions = {}) {
    const { url = realtimeUrl, eventsPerChannel = DEFAULT_EVENTS_PER_CHANNEL, ...rest } = options;
    this.eventsPerChannel = eventsPerChannel;
    this.socket = new ReconnectingSocket({
      ...rest,
      protocols: [JSON_V1],
      url: () => url(this.senderKey),
      onMessage: (message) => this.onMessage(message),
      onWelcome: ({ senderKey }) => {
        this.senderKey = senderKey;
      },
      onOpen: (send) => this.resubscribe(send),
    });
    this.socket.subscribe(() => this.onSocketChange());
  }

  // --- for React's useSyncExternalStore -------------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The connection's state, round trip, and what waits or is unanswered. */
  readonly getSnapshot = (): ConnectionSnapshot => this.socket.getSnapshot();

  /** The channel as the page has it; the same object until something in it changes. */
  readonly channel = (name: string): ChannelSnapshot => {
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.snapshot;
    let snapshot = this.idle.get(name);
    if (snapshot === undefined) {
      snapshot = idleChannel(name);
      this.idle.set(name, snapshot);
    }
    return snapshot;
  };

  // --- what pages do ------------------------------------------------------------------------

  /**
   * Follows `name` until the returned function is called. The first follower's `since` is
   * where the page resumes if it has no position of its own; a follower with another
   * `member` follows the channel afresh as that member.
   */
  follow(name: string, follower: Follower = {}): () => void {
    const member = follower.member ?? null;
    let entry = this.entries.get(name);
    if (entry === undefined) {
      const since = follower.since ?? null;
      const position = parsePosition(since);
      if (position !== null && this.positions.get(name) === undefined) {
        this.positions.reset(name, position);
      }
      entry = {
        name,
        member,
        since,
        followers: new Set(),
        request: null,
        snapshot: { ...idleChannel(name), status: 'waiting' },
      };
      this.entries.set(name, entry);
      entry.followers.add(follower);
      this.ensureRunning();
      this.askFor(entry);
    } else {
      entry.followers.add(follower);
      this.ensureRunning(); // a connection refused or given up on is tried again
      if (entry.member !== member) {
        entry.member = member;
        this.askFor(entry);
      }
    }
    const followed = entry;
    return () => {
      followed.followers.delete(follower);
      // Later, not now: React unmounts and mounts again at once under StrictMode and hot
      // updates, and a member that left and joined again would be announced to the others.
      this.scheduleCloseCheck();
    };
  }

  /** Publishes `data` to `name`; resolves once the channel holds it (its `ack`). */
  publish(name: string, data: Readonly<Record<string, unknown>>): Publishing {
    this.ensureRunning();
    const { result, id } = this.socket.sendFrame((id) =>
      encodeClientMessage({ type: 'publish', id, channel: name, data }),
    );
    let promise: Promise<ChannelAck>;
    if (result === 'full') {
      const waiting = this.socket.getSnapshot();
      const count = waiting.waiting.length + waiting.inFlight.length;
      promise = Promise.reject(
        new ChannelError('queue_full', `${count} messages are still waiting for an answer`),
      );
    } else if (result === 'closed') {
      promise = Promise.reject(new ChannelError('closed', 'not connected'));
    } else {
      promise = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    }
    promise.catch(() => undefined); // a caller that does not wait is not an unhandled error
    return Object.assign(promise, { id, result });
  }

  /** Skip the wait before the next attempt. */
  readonly reconnectNow = (): void => this.socket.reconnectNow();

  /** The page is gone: every subscription and the socket end. */
  close(): void {
    this.entries.clear();
    this.stop();
  }

  // --- the wire ---------------------------------------------------------------------------

  private ensureRunning(): void {
    const { status } = this.socket.getSnapshot().state;
    if (this.running && status !== 'closed' && status !== 'idle') return;
    if (!this.running) {
      this.running = true;
      this.socket.attach();
      this.stopWatchingSession = watchSession(() => {
        // Signed in as someone else, or out: the next connection carries the new credential.
        if (this.running) this.socket.connect();
      });
    }
    this.socket.connect();
  }

  private stop(): void {
    if (!this.running) return;
    this.running = false;
    this.stopWatchingSession?.();
    this.stopWatchingSession = null;
    for (const [id, pending] of this.pending) {
      pending.reject(new ChannelError('closed', 'the connection was closed'));
      this.pending.delete(id);
    }
    this.socket.stop();
  }

  private scheduleCloseCheck(): void {
    if (this.closeCheck) return;
    this.closeCheck = true;
    queueMicrotask(() => {
      this.closeCheck = false;
      for (const entry of [...this.entries.values()]) {
        if (entry.followers.size > 0) continue;
        this.entries.delete(entry.name);
        this.socket.sendNow(
          encodeClientMessage({ type: 'unsubscribe', id: this.requestId(), channel: entry.name }),
        );
      }
      if (this.entries.size === 0 && this.pending.size === 0) this.stop();
      this.emit();
    });
  }

  private requestId(): string {
    return `r${this.nextRequest++}`;
  }

  /** Sends the subscribe now if there is a connection; else it goes when one opens. */
  private askFor(entry: Entry, send = (frame: string) => this.socket.sendNow(frame)): void {
    const request = this.requestId();
    const since = this.positions.since(entry.name) ?? entry.since;
    const sent = send(
      encodeClientMessage({
        type: 'subscribe',
        id: request,
        channel: entry.name,
        ...(since === null || since === undefined ? {} : { since }),
        ...(entry.member === null ? {} : { member: entry.member }),
      }),
    );
    if (sent === false) {
      this.update(entry, { status: 'waiting' });
      return;
    }
    entry.request = request;
    this.update(entry, { status: 'subscribing', error: null });
    for (const follower of [...entry.followers]) follower.onSubscribe?.();
  }

  /** A connection opened: every followed channel is asked for again, from where it was. */
  private resubscribe(send: (frame: string) => void): void {
    for (const entry of this.entries.values()) {
      this.askFor(entry, (frame) => {
        send(frame);
        return true;
      });
    }
  }

  private onSocketChange(): void {
    const open = this.socket.getSnapshot().state.status === 'open';
    if (this.wasOpen && !open) {
      for (const entry of this.entries.values()) {
        if (entry.snapshot.status !== 'refused') this.update(entry, { status: 'waiting' });
      }
    }
    this.wasOpen = open;
    this.emit();
  }

  private onMessage(incoming: Incoming): void {
    if (incoming.kind === 'channel') {
      this.onChannelMessage(incoming.message);
    } else if (incoming.kind === 'error') {
      this.onError(incoming.code, incoming.detail, incoming.replyTo);
    } else {
      console.warn('ignored a message that names no channel:', incoming);
    }
  }

  private onChannelMessage(message: ChannelServerMessage): void {
    if (message.type === 'ack') {
      this.settle(message.reply_to)?.resolve(message);
      return;
    }
    const entry = this.entries.get(message.channel);
    if (entry === undefined) return; // left meanwhile
    switch (message.type) {
      case 'subscribed':
      case 'unsubscribed':
        return;
      case 'event': {
        if (this.positions.accept(entry.name, message) === 'seen') return; // has it already
        const events = [...entry.snapshot.events, message].slice(-this.eventsPerChannel);
        this.update(entry, { events, position: this.positions.get(entry.name) ?? null });
        for (const follower of [...entry.followers]) follower.onEvent?.(message);
        return;
      }
      case 'sync': {
        // Where the channel stands, when the page could not resume (or had nowhere to).
        // Not while its history cannot be read: what follows catches up from the old place.
        if (message.reason !== null && message.reason !== 'unavailable') {
          this.positions.reset(entry.name, { epoch: message.epoch, offset: message.offset });
        }
        const position = this.positions.get(entry.name) ?? null;
        this.update(entry, { status: 'live', sync: message, position });
        for (const follower of [...entry.followers]) follower.onSync?.(message);
        return;
      }
      case 'presence': {
        const presence = { online: message.online, complete: message.complete };
        this.update(entry, { presence });
        for (const follower of [...entry.followers]) follower.onPresence?.(presence);
        return;
      }
    }
  }

  private onError(code: string, detail: string, replyTo: string | null): void {
    if (replyTo === null) {
      console.warn(`the server could not take a message: ${code}: ${detail}`);
      return;
    }
    if (this.pending.has(replyTo)) {
      if (TRY_AGAIN_LATER.has(code)) return; // the socket sends it again, with its id
      this.settle(replyTo)?.reject(new ChannelError(code, detail));
      return;
    }
    for (const entry of this.entries.values()) {
      if (entry.request === replyTo) {
        this.update(entry, { status: 'refused', error: new ChannelError(code, detail) });
        return;
      }
    }
  }

  /** The publish `id` is answered: no longer pending (the socket closes if it was the last). */
  private settle(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (this.entries.size === 0 && this.pending.size === 0) this.scheduleCloseCheck();
    return pending;
  }

  private update(entry: Entry, change: Partial<ChannelSnapshot>): void {
    entry.snapshot = { ...entry.snapshot, ...change };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function watchSession(onChange: () => void): () => void {
  window.addEventListener(SESSION_CHANGED, onChange);
  return () => window.removeEventListener(SESSION_CHANGED, onChange);
}
