/**
 * A component's view of one channel over the tab's one connection:
 *
 *   const { events, recovery, presence, publish, connection } =
 *     useChannel(`chat:${room}`, { member: '7', onEvent: (event) => … });
 *
 * Every component that follows a channel shares its subscription; the connection opens with
 * the first channel followed and closes when none is.
 */
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import {
  ChannelError,
  type ChannelSnapshot,
  type Follower,
  type Publishing,
  RealtimeConnection,
} from '../realtime/RealtimeConnection';
import type { ConnectionSnapshot } from '../realtime/ReconnectingSocket';
import { CHANNEL_WORDS, type Recovery, type RecoveryWords, recoveryOf } from '../realtime/recovery';
import { useRealtimeSlot } from './RealtimeProvider';

/** The tab's connection (made on first use, in the slot the RealtimeProvider holds). */
export function useRealtime(): RealtimeConnection {
  const slot = useRealtimeSlot();
  slot.current ??= new RealtimeConnection();
  return slot.current;
}

/** The tab's connection's state, for a status line. */
export function useRealtimeStatus(): ConnectionSnapshot {
  const realtime = useRealtime();
  return useSyncExternalStore(realtime.subscribe, realtime.getSnapshot);
}

export interface ChannelOptions extends Follower {
  /** The words the recovery is said in ("Some messages may be missing: …"). */
  readonly words?: RecoveryWords;
}

export interface ChannelView extends ChannelSnapshot {
  /** From the channel's last `sync`; null before the first. */
  readonly recovery: Recovery | null;
  /** The connection all channels share. */
  readonly connection: ConnectionSnapshot;
  /** Resolves with the `ack` once the channel holds it; rejects with a ChannelError. */
  readonly publish: (data: Readonly<Record<string, unknown>>) => Publishing;
  readonly reconnectNow: () => void;
}

function notFollowing(): Publishing {
  const promise = Promise.reject(new ChannelError('closed', 'no channel is followed'));
  promise.catch(() => undefined);
  return Object.assign(promise, { id: '', result: 'closed' as const });
}

/**
 * Follows `name` while the component is mounted (null: none). `onEvent` and `onSync` are
 * the latest the component rendered with; `member` and `name` changing follows afresh.
 */
export function useChannel(name: string | null, options: ChannelOptions = {}): ChannelView {
  const realtime = useRealtime();
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const member = options.member ?? null;
  useEffect(() => {
    if (name === null) return;
    return realtime.follow(name, {
      member,
      since: latest.current.since ?? null,
      onEvent: (event) => latest.current.onEvent?.(event),
      onSync: (sync) => latest.current.onSync?.(sync),
      onSubscribe: () => latest.current.onSubscribe?.(),
      onPresence: (presence) => latest.current.onPresence?.(presence),
    });
  }, [realtime, name, member]);

  const channel = useSyncExternalStore(realtime.subscribe, () => realtime.channel(name ?? ''));
  const connection = useSyncExternalStore(realtime.subscribe, realtime.getSnapshot);
  const words = options.words ?? CHANNEL_WORDS;
  const recovery = useMemo(
    () => (channel.sync === null ? null : recoveryOf(channel.sync, words)),
    [channel.sync, words],
  );
  const publish = useCallback(
    (data: Readonly<Record<string, unknown>>) =>
      name === null ? notFollowing() : realtime.publish(name, data),
    [realtime, name],
  );
  return { ...channel, recovery, connection, publish, reconnectNow: realtime.reconnectNow };
}
