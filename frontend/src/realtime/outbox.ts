/**
 * Every message the page sent, until it is answered. A message waits here while there is no
 * connection, goes out in order when there is one, and with a protocol whose replies name the
 * message they answer (realtime.json.v1), stays here until that reply comes: if the connection
 * dies first, it goes back to the front of the queue and is sent again with its own id. A
 * reply that comes twice for one message (the first was on its way when the connection died)
 * is recognised, so that it is shown once.
 */

export interface OutgoingMessage {
  readonly id: string;
  readonly data: string | ArrayBuffer;
  /** `data` is a whole frame (a channel's publish), sent as it is; its reply names `id`. */
  readonly frame?: true;
}

/** waiting: for a connection; sent: on the wire, no answer yet; answered: done. */
export type Delivery = 'waiting' | 'sent' | 'answered';

/** How many replies to remember for recognising duplicates. */
const REMEMBERED_REPLIES = 1_000;

export class Outbox {
  private queued: OutgoingMessage[] = [];
  private unanswered: OutgoingMessage[] = [];
  // Refused for now by the server ("try again later"): sent again after a pause.
  private held: OutgoingMessage[] = [];
  private readonly replies = new Set<string>();

  /** `limit`: messages waiting or unanswered at once; beyond it a new one is refused. */
  constructor(readonly limit: number) {}

  /** False, and the message is not kept, when the outbox is full. */
  enqueue(message: OutgoingMessage): boolean {
    if (this.queued.length + this.unanswered.length + this.held.length >= this.limit) return false;
    this.queued = [...this.queued, message];
    return true;
  }

  /** The queued messages, oldest first, to go out now; the queue is empty afterwards. */
  takeQueued(): OutgoingMessage[] {
    const taken = this.queued;
    this.queued = [];
    return taken;
  }

  /** On the wire now; `tracked`: an answer will name it. */
  sent(message: OutgoingMessage, tracked: boolean): void {
    if (tracked) this.unanswered = [...this.unanswered, message];
  }

  /** The answer to `id` came; false if it was not waiting for one (a duplicate, say). */
  answered(id: string): boolean {
    const before = this.unanswered.length;
    this.unanswered = this.unanswered.filter((message) => message.id !== id);
    return this.unanswered.length < before;
  }

  /** The oldest binary message on the wire without an answer, for in-order answers. */
  oldestBinary(): string | null {
    return this.unanswered.find((message) => typeof message.data !== 'string')?.id ?? null;
  }

  /** The connection died: what it never answered goes first when the next one opens. */
  requeueUnanswered(): void {
    if (this.unanswered.length === 0 && this.held.length === 0) return;
    this.queued = [...this.held, ...this.unanswered, ...this.queued];
    this.unanswered = [];
    this.held = [];
  }

  /** The server could not take `id` now: it waits to be sent again; false if unknown. */
  hold(id: string): boolean {
    const message = this.unanswered.find((candidate) => candidate.id === id);
    if (message === undefined) return false;
    this.unanswered = this.unanswered.filter((candidate) => candidate !== message);
    this.held = [...this.held, message];
    return true;
  }

  /** Time to try the held ones again: they go first, in the order they were sent. */
  releaseHeld(): void {
    if (this.held.length === 0) return;
    this.queued = [...this.held, ...this.queued];
    this.held = [];
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Whether this exact reply to `id` was seen already; remembers it otherwise. */
  isRepeatedReply(id: string, text: string): boolean {
    const key = `${id}\u0000${text}`;
    if (this.replies.has(key)) return true;
    this.replies.add(key);
    if (this.replies.size > REMEMBERED_REPLIES) {
      const oldest = this.replies.values().next().value;
      if (oldest !== undefined) this.replies.delete(oldest);
    }
    return false;
  }

  /** A new array after each change, so that both can be part of a snapshot. */
  get waiting(): readonly OutgoingMessage[] {
    return this.held.length === 0 ? this.queued : [...this.held, ...this.queued];
  }

  get inFlight(): readonly OutgoingMessage[] {
    return this.unanswered;
  }
}
