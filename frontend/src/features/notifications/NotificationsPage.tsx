/**
 * Notifications: what other users sent you and the announcements to everyone, over the
 * page's one connection (the bell's subscriptions, shared), and a form to send one.
 */
import { useMe } from '../../hooks/useMe';
import { useTitle } from '../../hooks/useTitle';
import { Link } from '../../router';
import { connectionNote } from './connectionNote';
import { NoteList } from './NoteList';
import { NotificationStatus } from './NotificationStatus';
import { SendNotificationForm } from './SendNotificationForm';
import { useNotifications } from './useNotifications';
import { usePageVisible, useReadWhileShown } from './useReadWhileShown';

export function NotificationsPage() {
  useTitle('Notifications');
  const me = useMe();
  return (
    <article className="page">
      <header className="page-header">
        <h1>Notifications</h1>
        <p>
          A second live feature, built only on the public pieces: a user's own channel{' '}
          <code>user:{'{subject}'}</code>, which that user alone may follow, and{' '}
          <code>announcements</code> to everyone, both over the page's one connection (
          <code>WS /ws/realtime</code>). What arrives while you are away shows once when you come
          back.
        </p>
      </header>
      {me === undefined ? (
        <p className="loading">Loading…</p>
      ) : me.subject === null ? (
        <section className="card" aria-labelledby="guest-heading">
          <h2 id="guest-heading">Sign in to get notifications</h2>
          <p>
            Notifications are a signed-in user's. Set a session cookie on the{' '}
            <Link href="/items">Items page</Link>: the server takes its value as your name (with a
            signing secret, as the login that made it says). Then the bell in the header counts what
            others send you, and you can send them some.
          </p>
        </section>
      ) : (
        <>
          <Inbox subject={me.subject} />
          <SendNotificationForm />
        </>
      )}
    </article>
  );
}

function Inbox({ subject }: { readonly subject: string }) {
  const notifications = useNotifications(subject);
  // What this page shows while it is in view has been read.
  const isNew = useReadWhileShown(notifications, usePageVisible());

  const note = connectionNote(notifications.connection.state);
  return (
    <section className="card inbox" aria-labelledby="inbox-heading">
      <h2 id="inbox-heading">Yours, as {subject}</h2>
      <NotificationStatus
        note={note}
        refused={notifications.refused}
        missing={notifications.missing}
      />
      <NoteList
        notes={notifications.notes}
        isNew={isNew}
        label="Your notifications"
        empty="Nothing yet. Send yourself one below, or ask someone to."
      />
    </section>
  );
}
