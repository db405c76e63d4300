import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { EMPTY_LOG, LOG_LIMIT } from '../log/messageLog';
import { useMessageLog } from './useMessageLog';

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
