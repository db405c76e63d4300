import { describe, expect, it } from 'vitest';
import { appendEntries, appendToLog, EMPTY_LOG, type LogEntry } from './messageLog';

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
