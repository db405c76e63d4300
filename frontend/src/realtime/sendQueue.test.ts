import { describe, expect, it } from 'vitest';
import { SendQueue } from './sendQueue';

describe('SendQueue', () => {
  it('gives back what it holds in order, then nothing', () => {
    const queue = new SendQueue<string>(5);
    for (const item of ['a', 'b', 'c']) queue.push(item);
    expect(queue.drain()).toEqual(['a', 'b', 'c']);
    expect(queue.drain()).toEqual([]);
  });

  it('refuses a new item when full, and keeps the old ones', () => {
    const queue = new SendQueue<string>(2);
    expect(queue.push('a')).toBe(true);
    expect(queue.push('b')).toBe(true);
    expect(queue.push('c')).toBe(false);
    expect(queue.contents).toEqual(['a', 'b']);
  });

  it('shows a new array after each change', () => {
    const queue = new SendQueue<string>(2);
    const before = queue.contents;
    queue.push('a');
    expect(queue.contents).not.toBe(before);
  });
});
