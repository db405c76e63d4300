import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import {
  appendEntries,
  appendToLog,
  EMPTY_LOG,
  LOG_LIMIT,
  type LogEntry,
  useMessageLog,
} from './messageLog';

const entry = (id: number): LogEntry => ({ id, kind: 'received', text: `m${id}`, at: 0 });

describe('appendToLog', () => {
  it('keeps entries in order', () => {
    const log = appendToLog(appendToLog(EMPTY_LOG, entry(1)), entry(2));
    expect(log.entries.map((e) => e.id)).toEqual([1, 2]);
    expect(log.dropped).toBe(0);
  });

  it('drops the oldest beyond the limit and counts them', () => {
    let log = EMPTY_LOG;
    for (let id = 1; id <= 7; id++) log = appendToLog(log, entry(id), 5);
    expect(log.entries.map((e) => e.id)).toEqual([3, 4, 5, 6, 7]);
    expect(log.dropped).toBe(2);
  });

  it('does not change the log it was given', () => {
    const log = appendToLog(EMPTY_LOG, entry(1));
    appendToLog(log, entry(2));
    expect(log.entries).toHaveLength(1);
  });
});

describe('appendEntries', () => {
  it('appends many at once under the same bound', () => {
    const log = appendEntries(appendToLog(EMPTY_LOG, entry(1)), [2, 3, 4, 5, 6].map(entry), 4);
    expect(log.entries.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(log.dropped).toBe(2);
  });
});

describe('useMessageLog', () => {
  it('gives each entry its own id and time, and clears', async () => {
    const { result } = renderHook(() => useMessageLog());
    act(() => {
      result.current.add('sent', 'hello');
      result.current.add('received', 'Message text was: hello');
    });
    await waitFor(() => expect(result.current.log.entries).toHaveLength(2));
    const [first, second] = result.current.log.entries;
    expect(first?.kind).toBe('sent');
    expect(second?.text).toBe('Message text was: hello');
    expect(first?.id).not.toBe(second?.id);
    expect(first?.at).toBeGreaterThan(0);
    act(() => result.current.clear());
    expect(result.current.log).toEqual(EMPTY_LOG);
  });

  it('renders a burst in one update, keeping the newest and counting the rest', async () => {
    let renders = 0;
    const { result } = renderHook(() => {
      renders += 1;
      return useMessageLog();
    });
    act(() => {
      for (let n = 1; n <= 3 * LOG_LIMIT; n++) result.current.add('received', `m${n}`);
    });
    await waitFor(() => expect(result.current.log.dropped).toBe(2 * LOG_LIMIT));
    expect(result.current.log.entries).toHaveLength(LOG_LIMIT);
    expect(result.current.log.entries.at(-1)?.text).toBe(`m${3 * LOG_LIMIT}`);
    expect(renders).toBe(2); // the first render, and one for the whole burst
  });
});
