/**
 * The tab's one realtime connection, provided once at the top of the app. The provider is
 * small on purpose: it is part of every first visit, while the connection's code loads with
 * the first component that follows a channel (`useChannel`), which creates the connection
 * in this slot. So a page that follows nothing costs nothing, and the initial JavaScript
 * stays within its budget (frontend/scripts/bundle-budget.mjs).
 */
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import type { RealtimeConnection } from '../realtime/RealtimeConnection';

/** Where the tab's connection lives once a component needed it. */
export interface RealtimeSlot {
  current: RealtimeConnection | null;
}

const RealtimeContext = createContext<RealtimeSlot | null>(null);

export function RealtimeProvider({
  connection = null,
  children,
}: {
  /** A connection made elsewhere, which its maker closes (tests); by default one is made on
   * first use, and closed with the provider. */
  readonly connection?: RealtimeConnection | null;
  readonly children: ReactNode;
}) {
  const [slot] = useState<RealtimeSlot>(() => ({ current: connection }));
  const [mounts] = useState({ count: 0 });
  useEffect(() => {
    mounts.count += 1;
    return () => {
      mounts.count -= 1;
      // Under StrictMode the provider is unmounted and mounted again at once: only a real
      // unmount closes the connection.
      queueMicrotask(() => {
        if (mounts.count === 0 && connection === null) slot.current?.close();
      });
    };
  }, [slot, mounts, connection]);
  return <RealtimeContext.Provider value={slot}>{children}</RealtimeContext.Provider>;
}

/** The slot of the tab's connection; throws outside a RealtimeProvider. */
export function useRealtimeSlot(): RealtimeSlot {
  const slot = useContext(RealtimeContext);
  if (slot === null) throw new Error('useChannel needs a <RealtimeProvider> above it');
  return slot;
}
