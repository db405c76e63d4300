import { useEffect, useState } from 'react';
import { type Note, noteKey } from './readState';
import type { Notifications } from './useNotifications';

/**
 * While `shown`, what is listed is read, also what arrives meanwhile; what was unread when
 * it was shown stays marked as new until it is hidden again.
 */
export function useReadWhileShown(
  notifications: Notifications,
  shown: boolean,
): (note: Note) => boolean {
  const { notes, unread, isUnread, markAllRead } = notifications;
  const [fresh, setFresh] = useState<ReadonlySet<string>>(() => new Set());
  useEffect(() => {
    if (!shown) setFresh((before) => (before.size === 0 ? before : new Set()));
  }, [shown]);
  useEffect(() => {
    if (!shown || unread === 0) return;
    setFresh((before) => {
      const after = new Set(before);
      for (const note of notes) if (isUnread(note)) after.add(noteKey(note));
      return after;
    });
    markAllRead();
  }, [shown, unread, notes, isUnread, markAllRead]);
  return (note) => fresh.has(noteKey(note));
}

/** Whether the tab is in view (not in the background, not minimised). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const changed = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', changed);
    return () => document.removeEventListener('visibilitychange', changed);
  }, []);
  return visible;
}
