/**
 * The bell in the header of every page, for a signed-in user: the unread count (announced
 * politely), and a panel that lists the latest notifications and marks them read. A guest
 * sees no bell (the Notifications page says how to sign in). Loaded after the first paint.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useMe } from '../../hooks/useMe';
import { Link } from '../../router';
import { connectionNote } from './connectionNote';
import { NoteList } from './NoteList';
import { NotificationStatus } from './NotificationStatus';
import { useNotifications } from './useNotifications';
import { useReadWhileShown } from './useReadWhileShown';

const unreadWords = (count: number) =>
  `${count} unread ${count === 1 ? 'notification' : 'notifications'}`;

export function NotificationBell() {
  const me = useMe();
  if (me === undefined || me.subject === null) return null;
  return <Bell key={me.subject} subject={me.subject} />;
}

function Bell({ subject }: { readonly subject: string }) {
  const notifications = useNotifications(subject);
  const { notes, unread } = notifications;
  const [open, setOpen] = useState(false);
  const isNew = useReadWhileShown(notifications, open);
  const wrapper = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const headingId = useId();

  // A click or a tap anywhere else closes it; so does Escape, back to the bell.
  useEffect(() => {
    if (!open) return;
    const outside = (event: PointerEvent) => {
      if (!wrapper.current?.contains(event.target as Node)) setOpen(false);
    };
    const onEscape = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setOpen(false);
      if (wrapper.current?.contains(document.activeElement)) button.current?.focus();
    };
    document.addEventListener('pointerdown', outside);
    document.addEventListener('keydown', onEscape);
    return () => {
      document.removeEventListener('pointerdown', outside);
      document.removeEventListener('keydown', onEscape);
    };
  }, [open]);

  const toggle = () => setOpen(!open);

  const note = connectionNote(notifications.connection.state);
  return (
    <div className="bell" ref={wrapper}>
      <button
        ref={button}
        type="button"
        className="bell-button secondary"
        aria-expanded={open}
        aria-controls={panelId}
        data-testid="bell"
        onClick={toggle}
      >
        <BellIcon />
        <span className="visually-hidden">
          Notifications{unread > 0 ? `, ${unreadWords(unread)}` : ''}
        </span>
        {unread > 0 && (
          <span className="bell-count" aria-hidden="true" data-testid="bell-count">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      <span className="visually-hidden" role="status">
        {unread > 0 ? unreadWords(unread) : ''}
      </span>
      <section
        id={panelId}
        className="bell-panel"
        aria-labelledby={headingId}
        hidden={!open}
        data-testid="bell-panel"
      >
        <h2 id={headingId}>Notifications</h2>
        <p className="hint">Signed in as {subject}.</p>
        <NotificationStatus
          note={note}
          refused={notifications.refused}
          missing={notifications.missing}
        />
        <NoteList
          notes={notes}
          isNew={isNew}
          limit={8}
          label="Latest notifications"
          empty="Nothing yet. What others send you shows here, also what arrives while you are away."
        />
        <p className="bell-more">
          <Link href="/notifications" onClick={() => setOpen(false)}>
            All notifications, and send one
          </Link>
        </p>
      </section>
    </div>
  );
}

function BellIcon() {
  return (
    <svg
      className="bell-icon"
      viewBox="0 0 24 24"
      width="20"
      height="20"
      aria-hidden="true"
      focusable="false"
    >
      <path
        fill="currentColor"
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
      />
    </svg>
  );
}
