/**
 * What a user has read, kept per user in this browser (localStorage): for each channel the
 * position of the last notification read, which is where the page resumes on its next visit
 * (`since`), so that what arrived while the user was away, or had no tab open, is replayed
 * by the channel's history and counted as unread, once; and the few latest read ones, to
 * list them again after a reload. Every tab of the browser shares it (the `storage` event).
 */
import type { StreamPosition } from '../../realtime/messages';

/** One notification or announcement, as the bell lists it. */
export interface Note extends StreamPosition {
  readonly channel: string;
  /** When the channel took it: the server's time in ms. */
  readonly at: number;
  /** Who sent it (a user's subject), or null for an announcement to everyone. */
  readonly sender: string | null;
  readonly text: string;
}

export interface ReadState {
  /** Per channel, the last position read. */
  readonly read: Readonly<Record<string, StreamPosition>>;
  /** The latest notes read, newest first, to show again after a reload. */
  readonly kept: readonly Note[];
}

export const KEPT_NOTES = 20;
const EMPTY: ReadState = { read: {}, kept: [] };
const PREFIX = 'notifications.';

export const storageKey = (subject: string) => `${PREFIX}${subject}`;

export const noteKey = (note: Note) => `${note.channel} ${note.epoch}:${note.offset}`;

/** Whether `note` comes after the position read in its channel (a new history: yes). */
export function isUnread(note: Note, state: ReadState): boolean {
  const read = state.read[note.channel];
  return read === undefined || read.epoch !== note.epoch || note.offset > read.offset;
}

/** `since` for a channel: where the user stopped reading, as `epoch:offset`. */
export function sinceOf(state: ReadState, channel: string | null): string | null {
  const read = channel === null ? undefined : state.read[channel];
  return read === undefined ? null : `${read.epoch}:${read.offset}`;
}

function isPosition(value: unknown): value is StreamPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, offset } = value as { epoch?: unknown; offset?: unknown };
  return typeof epoch === 'string' && epoch !== '' && Number.isSafeInteger(offset);
}

function isNote(value: unknown): value is Note {
  if (!isPosition(value)) return false;
  const { channel, at, sender, text } = value as Partial<Record<keyof Note, unknown>>;
  return (
    typeof channel === 'string' &&
    typeof at === 'number' &&
    (sender === null || typeof sender === 'string') &&
    typeof text === 'string'
  );
}

/** What was stored, checked field by field: anything else counts as nothing read. */
export function parseReadState(stored: string | null): ReadState {
  if (stored === null) return EMPTY;
  try {
    const value: unknown = JSON.parse(stored);
    if (typeof value !== 'object' || value === null) return EMPTY;
    const { read, kept } = value as { read?: unknown; kept?: unknown };
    const positions: Record<string, StreamPosition> = {};
    if (typeof read === 'object' && read !== null) {
      for (const [channel, position] of Object.entries(read)) {
        if (isPosition(position))
          positions[channel] = { epoch: position.epoch, offset: position.offset };
      }
    }
    const notes = Array.isArray(kept) ? kept.filter(isNote).slice(0, KEPT_NOTES) : [];
    return { read: positions, kept: notes };
  } catch {
    return EMPTY;
  }
}

export function loadReadState(subject: string): ReadState {
  try {
    return parseReadState(window.localStorage.getItem(storageKey(subject)));
  } catch {
    return EMPTY; // storage refused (a private window): nothing is kept
  }
}

/**
 * The state once `notes` are read: each channel's position moves up to its latest note (or
 * to `positions`, where the channel stands), and the notes join those kept.
 */
export function markRead(
  state: ReadState,
  notes: readonly Note[],
  positions: Readonly<Record<string, StreamPosition | null>> = {},
): ReadState {
  const read: Record<string, StreamPosition> = { ...state.read };
  const advance = (channel: string, position: StreamPosition) => {
    const before = read[channel];
    if (
      before === undefined ||
      before.epoch !== position.epoch ||
      position.offset > before.offset
    ) {
      read[channel] = { epoch: position.epoch, offset: position.offset };
    }
  };
  for (const note of notes) if (isUnread(note, state)) advance(note.channel, note);
  for (const [channel, position] of Object.entries(positions)) {
    if (position !== null && position.epoch !== '') advance(channel, position);
  }
  const byKey = new Map<string, Note>();
  for (const note of [...notes, ...state.kept]) byKey.set(noteKey(note), note);
  const kept = [...byKey.values()].sort((a, b) => b.at - a.at).slice(0, KEPT_NOTES);
  return { read, kept };
}

export function saveReadState(subject: string, state: ReadState): void {
  try {
    window.localStorage.setItem(storageKey(subject), JSON.stringify(state));
  } catch {
    // not kept: the page works the same, it only forgets on a reload
  }
}
