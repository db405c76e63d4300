/**
 * A user's notifications (`user:{subject}`, which that user alone may follow) and the
 * announcements to everyone (`announcements`), over the tab's one connection, built only on
 * the public pieces (useChannel): what is unread, what may be missing, and marking as read.
 * The bell and the Notifications page both use it; they share the two subscriptions.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useChannel } from '../../hooks/useChannel';
import type { ChannelEvent } from '../../realtime/RealtimeConnection';
import type { RecoveryWords } from '../../realtime/recovery';
import {
  isUnread,
  loadReadState,
  markRead,
  type Note,
  noteKey,
  type ReadState,
  saveReadState,
  sinceOf,
  storageKey,
} from './readState';

export const ANNOUNCEMENTS = 'announcements';
export const userChannel = (subject: string) => `user:${subject}`;

const NOTIFICATION_WORDS: RecoveryWords = {
  things: 'notifications',
  keeper: 'the bell',
  came: 'arrived',
};
const ANNOUNCEMENT_WORDS: RecoveryWords = {
  things: 'announcements',
  keeper: 'the bell',
  came: 'was announced',
};

/** An event of either channel as the bell lists it (null: not one it shows). */
export function noteOf(event: ChannelEvent): Note | null {
  if (event.kind !== 'published') return null;
  const { text, sender } = event.data as { text?: unknown; sender?: unknown };
  if (typeof text !== 'string') return null;
  const from =
    event.channel === ANNOUNCEMENTS ? null : typeof sender === 'string' ? sender : event.sender;
  return {
    channel: event.channel,
    epoch: event.epoch,
    offset: event.offset,
    at: event.at,
    sender: from,
    text,
  };
}

const SAME_TAB = 'app:notifications-read'; // the storage event reaches the other tabs only

/** The read state of `subject`, as every tab of this browser has it. */
function useReadState(subject: string | null): [ReadState, (next: ReadState) => void] {
  const [state, setState] = useState<ReadState>(() =>
    subject === null ? { read: {}, kept: [] } : loadReadState(subject),
  );
  useEffect(() => {
    if (subject === null) return;
    setState(loadReadState(subject));
    const reload = (event: Event) => {
      if (event instanceof StorageEvent && event.key !== storageKey(subject)) return;
      setState(loadReadState(subject));
    };
    window.addEventListener('storage', reload);
    window.addEventListener(SAME_TAB, reload);
    return () => {
      window.removeEventListener('storage', reload);
      window.removeEventListener(SAME_TAB, reload);
    };
  }, [subject]);
  const save = useCallback(
    (next: ReadState) => {
      if (subject === null) return;
      saveReadState(subject, next);
      setState(next);
      window.dispatchEvent(new Event(SAME_TAB));
    },
    [subject],
  );
  return [state, save];
}

export interface Notifications {
  /** Newest first: what arrived (read or not) and what was read before, each once. */
  readonly notes: readonly Note[];
  readonly unread: number;
  readonly isUnread: (note: Note) => boolean;
  /** What may be missing, beyond the history window (one line per channel that says so). */
  readonly missing: readonly string[];
  /** Everything listed is read; where the user resumes next time moves up to here. */
  readonly markAllRead: () => void;
  /** Both channels are followed and caught up. */
  readonly live: boolean;
  /** A channel the server would not let the page follow, in its words. */
  readonly refused: string | null;
  readonly connection: ReturnType<typeof useChannel>['connection'];
}

/** Follows `subject`'s notifications and the announcements (null: a guest, nothing). */
export function useNotifications(subject: string | null): Notifications {
  const [readState, saveRead] = useReadState(subject);
  // Where to resume: where the user stopped reading (used when a channel is first followed).
  const resume = useMemo(() => loadReadState(subject ?? ''), [subject]);
  const personal = subject === null ? null : userChannel(subject);
  const mine = useChannel(personal, {
    since: sinceOf(resume, personal),
    words: NOTIFICATION_WORDS,
  });
  const everyone = subject === null ? null : ANNOUNCEMENTS;
  const news = useChannel(everyone, {
    since: sinceOf(resume, everyone),
    words: ANNOUNCEMENT_WORDS,
  });

  const live = useMemo(() => {
    const notes: Note[] = [];
    for (const event of [...mine.events, ...news.events]) {
      const note = noteOf(event);
      if (note !== null) notes.push(note);
    }
    return notes;
  }, [mine.events, news.events]);

  const notes = useMemo(() => {
    const byKey = new Map<string, Note>();
    for (const note of [...readState.kept, ...live]) byKey.set(noteKey(note), note);
    return [...byKey.values()].sort((a, b) => b.at - a.at);
  }, [readState.kept, live]);

  // What was read before this visit is never unread; what arrived is, until read.
  const liveKeys = useMemo(() => new Set(live.map(noteKey)), [live]);
  const unreadNote = useCallback(
    (note: Note) => liveKeys.has(noteKey(note)) && isUnread(note, readState),
    [liveKeys, readState],
  );
  const unread = live.filter((note) => isUnread(note, readState)).length;

  const markAllRead = useCallback(() => {
    if (subject === null) return;
    const positions = { [mine.channel]: mine.position, [news.channel]: news.position };
    const next = markRead(readState, live, positions);
    if (JSON.stringify(next) !== JSON.stringify(readState)) saveRead(next);
  }, [
    subject,
    readState,
    live,
    mine.channel,
    mine.position,
    news.channel,
    news.position,
    saveRead,
  ]);

  const missing = [mine.recovery?.missing, news.recovery?.missing].filter(
    (line): line is string => typeof line === 'string',
  );
  const refusedChannel = [mine, news].find((channel) => channel.status === 'refused');
  return {
    notes,
    unread,
    isUnread: unreadNote,
    missing,
    markAllRead,
    live: mine.status === 'live' && news.status === 'live',
    refused: refusedChannel?.error?.message ?? null,
    connection: mine.connection,
  };
}
