import { type Note, noteKey } from './readState';

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** Notifications and announcements, newest first: who sent each, what, and when. */
export function NoteList({
  notes,
  isNew,
  limit = Number.POSITIVE_INFINITY,
  empty,
  label,
}: {
  readonly notes: readonly Note[];
  /** Shown as new: unread when the list was opened. */
  readonly isNew: (note: Note) => boolean;
  readonly limit?: number;
  /** What the list says when there is nothing in it. */
  readonly empty: string;
  readonly label: string;
}) {
  if (notes.length === 0) return <p className="hint notes-empty">{empty}</p>;
  return (
    <ol className="notes" aria-label={label}>
      {notes.slice(0, limit).map((note) => {
        const fresh = isNew(note);
        return (
          <li key={noteKey(note)} className={fresh ? 'note note-new' : 'note'} data-testid="note">
            <p className="note-head">
              <span className="note-from">
                {note.sender === null ? 'Announcement' : `From ${note.sender}`}
              </span>
              <time dateTime={new Date(note.at).toISOString()}>{timeFormat.format(note.at)}</time>
              {fresh && <span className="note-badge">new</span>}
            </p>
            <p className="note-text">{note.text}</p>
          </li>
        );
      })}
    </ol>
  );
}
