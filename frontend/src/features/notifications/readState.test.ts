import { describe, expect, it } from 'vitest';
import {
  isUnread,
  KEPT_NOTES,
  markRead,
  type Note,
  parseReadState,
  type ReadState,
  sinceOf,
} from './readState';

const note = (offset: number, epoch = 'e1', channel = 'user:alice'): Note => ({
  channel,
  epoch,
  offset,
  at: 1_000 + offset,
  sender: 'bob',
  text: `note ${offset}`,
});

const nothingRead: ReadState = { read: {}, kept: [] };

describe('the read state', () => {
  it('counts what came after the position read, and all of a new history', () => {
    const state: ReadState = { read: { 'user:alice': { epoch: 'e1', offset: 3 } }, kept: [] };
    expect(isUnread(note(3), state)).toBe(false);
    expect(isUnread(note(4), state)).toBe(true);
    expect(isUnread(note(1, 'e2'), state)).toBe(true);
    expect(isUnread(note(1, 'e1', 'announcements'), state)).toBe(true);
    expect(sinceOf(state, 'user:alice')).toBe('e1:3');
    expect(sinceOf(state, 'announcements')).toBeNull();
  });

  it('moves up to where each channel stands once read, and keeps the latest read to show', () => {
    const notes = [note(1), note(2), note(1, 'e9', 'announcements')];
    const read = markRead(nothingRead, notes, {
      'user:alice': { epoch: 'e1', offset: 5 },
      announcements: null,
    });
    expect(read.read).toEqual({
      'user:alice': { epoch: 'e1', offset: 5 },
      announcements: { epoch: 'e9', offset: 1 },
    });
    expect(read.kept.map((kept) => kept.offset)).toEqual([2, 1, 1]);
    const many = Array.from({ length: 30 }, (_, index) => note(index + 10));
    expect(markRead(read, many).kept).toHaveLength(KEPT_NOTES);
  });

  it('reads back what it stored, and takes anything else for nothing read', () => {
    const state = markRead(nothingRead, [note(1)]);
    expect(parseReadState(JSON.stringify(state))).toEqual(state);
    for (const stored of [null, '', 'not json', '[]', '{"read": 3}', '{"kept": [{"x": 1}]}']) {
      expect(parseReadState(stored)).toEqual(nothingRead);
    }
    expect(
      parseReadState(
        '{"read": {"user:alice": {"epoch": "", "offset": 1}, "x": {"epoch": "e", "offset": 2}}}',
      ),
    ).toEqual({ read: { x: { epoch: 'e', offset: 2 } }, kept: [] });
  });
});
