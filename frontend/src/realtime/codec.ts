/**
 * What a connection's frames mean, by the subprotocol the server chose. The transport
 * (ReconnectingSocket) only moves frames; a codec turns them into typed messages and back.
 */
import {
  type ChannelServerMessage,
  decodeServerMessage,
  encodeClientMessage,
  isChannelMessage,
  type ServerMessage,
} from './messages';
import { JSON_V1 } from './protocol';

/** A message from the server, as a page receives it. */
export type Incoming =
  | { readonly kind: 'text'; readonly text: string; readonly replyTo: string | null }
  /** `replyTo`: the binary message it answers, where the server answers them in order. */
  | { readonly kind: 'binary'; readonly data: ArrayBuffer; readonly replyTo: string | null }
  | {
      readonly kind: 'error';
      readonly code: string;
      readonly detail: string;
      readonly replyTo: string | null;
    }
  /** Any other typed message of realtime.json.v1: a chat room's events, acknowledgements. */
  | { readonly kind: 'event'; readonly message: EventMessage }
  /** A message of one channel on the multiplexed endpoint (WS /ws/realtime). */
  | { readonly kind: 'channel'; readonly message: ChannelServerMessage };

export type EventMessage = Exclude<ServerMessage, { type: 'text' | 'error' | 'pong' | 'welcome' }>;

export type Decoded =
  | { readonly kind: 'pong'; readonly id: string; readonly sentAt: number }
  | { readonly kind: 'welcome'; readonly connectionId: string; readonly senderKey: string }
  | { readonly kind: 'incoming'; readonly incoming: Incoming }
  | { readonly kind: 'unknown' };

export interface Codec {
  /** Replies name the message they answer, so the transport can track each one until then. */
  readonly tracksReplies: boolean;
  encodeText(id: string, text: string): string;
  /** null: the protocol has no ping of its own, so there is no heartbeat. */
  readonly encodePing: ((id: string, sentAt: number) => string) | null;
  decode(frame: string): Decoded;
}

/** The guide's plain text, and realtime.text.v1: a frame is a message, with no id. */
export const PLAIN_TEXT: Codec = {
  tracksReplies: false,
  encodeText: (_id, text) => text,
  encodePing: null,
  decode: (frame) => ({ kind: 'incoming', incoming: { kind: 'text', text: frame, replyTo: null } }),
};

export const JSON_V1_CODEC: Codec = {
  tracksReplies: true,
  encodeText: (id, text) => encodeClientMessage({ type: 'text', id, text }),
  encodePing: (id, sentAt) => encodeClientMessage({ type: 'ping', id, sent_at: sentAt }),
  decode(frame) {
    const message = decodeServerMessage(frame);
    if (message === null) return { kind: 'unknown' };
    if (isChannelMessage(message))
      return { kind: 'incoming', incoming: { kind: 'channel', message } };
    switch (message.type) {
      case 'pong':
        return { kind: 'pong', id: message.id, sentAt: message.sent_at };
      case 'welcome':
        return {
          kind: 'welcome',
          connectionId: message.connection_id,
          senderKey: message.sender_key,
        };
      case 'text':
        return {
          kind: 'incoming',
          incoming: { kind: 'text', text: message.text, replyTo: message.reply_to },
        };
      case 'error':
        return {
          kind: 'incoming',
          incoming: {
            kind: 'error',
            code: message.code,
            detail: message.detail,
            replyTo: message.reply_to,
          },
        };
      default:
        return { kind: 'incoming', incoming: { kind: 'event', message } };
    }
  },
};

/** Error codes that mean "not now": the message is sent again, with its id, a little later. */
export const TRY_AGAIN_LATER = new Set(['room_unavailable', 'channel_unavailable']);

export function codecFor(protocol: string): Codec {
  return protocol === JSON_V1 ? JSON_V1_CODEC : PLAIN_TEXT;
}

/** The id of the sent message that an incoming one answers, if any. */
export function answerTo(incoming: Incoming): string | null {
  switch (incoming.kind) {
    case 'text':
    case 'error':
    case 'binary':
      return incoming.replyTo;
    case 'channel':
      return 'reply_to' in incoming.message ? incoming.message.reply_to : null;
    case 'event': {
      const replyTo = (incoming.message as { readonly reply_to?: unknown }).reply_to;
      return typeof replyTo === 'string' ? replyTo : null;
    }
  }
}
