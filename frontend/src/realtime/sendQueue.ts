/**
 * Messages the user sent while the connection was down, in order, up to a limit. When full, a
 * new message is refused rather than an old one dropped: the page keeps the refused text in the
 * message box and says why, so nothing the user sent disappears without a word.
 */
export class SendQueue<T> {
  private items: T[] = [];

  constructor(readonly limit: number) {}

  /** False, and the item is not kept, when the queue is full. */
  push(item: T): boolean {
    if (this.items.length >= this.limit) return false;
    this.items = [...this.items, item];
    return true;
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  drain(): T[] {
    const drained = this.items;
    this.items = [];
    return drained;
  }

  /** The queued items; a new array after each change, so it can be part of a snapshot. */
  get contents(): readonly T[] {
    return this.items;
  }
}
