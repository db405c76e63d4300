/**
 * The messages of the `realtime.json.v1` subprotocol, as TypeScript types. Their source is the
 * backend's models, assembled by backend/app/protocol.py into docs/protocol.schema.json, which
 * the backend's tests keep equal to the models; messages.test.ts checks these types against
 * that file. See docs/protocol.md.
 */

export type ClientMessage =
  | { readonly type: 'text'; readonly id: string; readonly text: string }
  | { readonly type: 'ping'; readonly id: string; readonly sent_at: number }
  | ChannelClientMessage;

/** The multiplexed endpoint (WS /ws/realtime): follow, leave, and publish to channels. */
export type ChannelClientMessage =
  | {
      readonly type: 'subscribe';
      readonly id: string;
      readonly channel: string;
      /** epoch:offset of the last event the page has, to resume from. */
      readonly since?: string | null;
      /** On a channel with presence: how the page shows to the others (a chat's number). */
      readonly member?: string | null;
    }
  | { readonly type: 'unsubscribe'; readonly id: string; readonly channel: string }
  | {
      readonly type: 'publish';
      readonly id: string;
      readonly channel: string;
      readonly data: Readonly<Record<string, unknown>>;
    };

export const ERROR_CODES = [
  'invalid_json',
  'unknown_type',
  'invalid_message',
  'room_unavailable',
  'unknown_channel',
  'forbidden',
  'too_many_channels',
  'channels_full',
  'invalid_payload',
  'not_subscribed',
  'channel_unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where an event stands in its room: an offset, gapless, within an epoch. */
export interface StreamPosition {
  readonly epoch: string;
  readonly offset: number;
}

interface RoomEventFields extends StreamPosition {
  readonly room: string;
  readonly client_id: number;
  /** When the room took it: the server's time in ms. */
  readonly at: number;
}

export const NOT_RECOVERED_REASONS = [
  'first_join',
  'epoch_changed',
  'too_far_behind',
  'expired',
  'unavailable',
] as const;
export type NotRecoveredReason = (typeof NOT_RECOVERED_REASONS)[number];

/** Chat (WS /ws/{client_id}): what happens in a room, and where one stands in it. */
export type ChatMessage =
  | (RoomEventFields & {
      readonly type: 'chat';
      readonly text: string;
      /** The id its sender gave it. */
      readonly message_id: string | null;
    })
  | (RoomEventFields & { readonly type: 'joined' })
  | (RoomEventFields & { readonly type: 'left' })
  /** The room holds the sender's message `reply_to`, at this position. */
  | (StreamPosition & { readonly type: 'ack'; readonly reply_to: string; readonly room: string })
  /** The end of the history a member gets; `recovered`: nothing since its position is missing. */
  | (StreamPosition & {
      readonly type: 'sync';
      readonly room: string;
      readonly recovered: boolean;
      readonly reason: NotRecoveredReason | null;
      readonly replayed: number;
    })
  | {
      readonly type: 'presence';
      readonly room: string;
      readonly online: readonly number[];
      /** False while the server cannot see the other processes: only its own are listed. */
      readonly complete: boolean;
    };

/** The live server page (WS /api/live): what one process sees, once a second. */
export interface ServerStats {
  readonly type: 'server_stats';
  /** host/pid: with several processes, the page shows the one it reached. */
  readonly process: string;
  readonly endpoints: readonly {
    readonly endpoint: string;
    readonly open: number;
    readonly received_per_second: number;
    readonly sent_per_second: number;
  }[];
  readonly broker: { readonly kind: 'memory' | 'redis'; readonly connected: boolean };
  readonly disconnects: readonly RecentHappening[];
  readonly refusals: readonly RecentHappening[];
}

export interface RecentHappening {
  /** Seconds since the epoch. */
  readonly at: number;
  readonly endpoint: string;
  readonly what: string;
}

export type ServerMessage =
  /** The first message: the connection's id, which the server's log lines carry too. */
  | {
      readonly type: 'welcome';
      readonly connection_id: string;
      /** Who sends on this connection, to give back on later attempts (`?sender_key=`). */
      readonly sender_key: string;
    }
  | { readonly type: 'text'; readonly text: string; readonly reply_to: string | null }
  | { readonly type: 'pong'; readonly id: string; readonly sent_at: number }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly detail: string;
      readonly reply_to: string | null;
    }
  | ChatMessage
  | ServerStats;

/** The multiplexed endpoint's messages: each names its channel. */
export type ChannelServerMessage =
  | { readonly type: 'subscribed'; readonly reply_to: string; readonly channel: string }
  | { readonly type: 'unsubscribed'; readonly reply_to: string; readonly channel: string }
  | (StreamPosition & {
      readonly type: 'event';
      readonly channel: string;
      /** When the channel took it: the server's time in ms. */
      readonly at: number;
      readonly kind: 'published' | 'joined' | 'left';
      readonly sender: string | null;
      readonly message_id: string | null;
      readonly data: Readonly<Record<string, unknown>>;
    })
  | (StreamPosition & {
      readonly type: 'sync';
      readonly channel: string;
      readonly recovered: boolean;
      readonly reason: NotRecoveredReason | null;
      readonly replayed: number;
    })
  | {
      readonly type: 'presence';
      readonly channel: string;
      readonly online: readonly string[];
      readonly complete: boolean;
    }
  | (StreamPosition & {
      readonly type: 'ack';
      readonly reply_to: string;
      readonly channel: string;
    });

export const CHANNEL_MESSAGE_TYPES = [
  'subscribed',
  'unsubscribed',
  'event',
  'sync',
  'presence',
  'ack',
] as const satisfies readonly ChannelServerMessage['type'][];

export const SERVER_MESSAGE_TYPES = [
  'welcome',
  'text',
  'pong',
  'error',
  'chat',
  'joined',
  'left',
  'ack',
  'sync',
  'presence',
  'server_stats',
] as const satisfies readonly ServerMessage['type'][];
export const CLIENT_MESSAGE_TYPES = [
  'text',
  'ping',
  'subscribe',
  'unsubscribe',
  'publish',
] as const satisfies readonly ClientMessage['type'][];

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/**
 * The server's message, or null for anything that is not one (logged, never thrown). A
 * message of the multiplexed endpoint names its channel (`isChannelMessage`).
 */
export function decodeServerMessage(data: string): ServerMessage | ChannelServerMessage | null {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null || !('type' in message)) return null;
  const { type } = message as { type: unknown };
  if ('channel' in message && typeof message.channel === 'string') {
    return (CHANNEL_MESSAGE_TYPES as readonly unknown[]).includes(type)
      ? (message as ChannelServerMessage)
      : null;
  }
  return (SERVER_MESSAGE_TYPES as readonly unknown[]).includes(type)
    ? (message as ServerMessage)
    : null;
}

/** Whether a decoded message is one of a channel's (WS /ws/realtime): each names its channel. */
export function isChannelMessage(
  message: ServerMessage | ChannelServerMessage,
): message is ChannelServerMessage {
  return 'channel' in message;
}
