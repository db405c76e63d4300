/**
 * The messages of the `realtime.json.v1` subprotocol, as TypeScript types. The source is
 * backend/app/messages.py; messages.test.ts checks these against docs/protocol.schema.json,
 * which the backend's tests keep equal to the models. See docs/protocol.md.
 */

export type ClientMessage =
  | { readonly type: 'text'; readonly id: string; readonly text: string }
  | { readonly type: 'ping'; readonly id: string; readonly sent_at: number };

export const ERROR_CODES = ['invalid_json', 'unknown_type', 'invalid_message'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Chat (WS /ws/{client_id}): what happens in a room. `at` is the server's time in ms. */
export type ChatMessage =
  | {
      readonly type: 'chat';
      readonly room: string;
      readonly client_id: number;
      readonly text: string;
      readonly at: number;
    }
  | {
      readonly type: 'joined';
      readonly room: string;
      readonly client_id: number;
      readonly at: number;
    }
  | {
      readonly type: 'left';
      readonly room: string;
      readonly client_id: number;
      readonly at: number;
    }
  | { readonly type: 'presence'; readonly room: string; readonly online: readonly number[] };

export type ServerMessage =
  | { readonly type: 'text'; readonly text: string; readonly reply_to: string | null }
  | { readonly type: 'pong'; readonly id: string; readonly sent_at: number }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly detail: string;
      readonly reply_to: string | null;
    }
  | ChatMessage;

export const SERVER_MESSAGE_TYPES = [
  'text',
  'pong',
  'error',
  'chat',
  'joined',
  'left',
  'presence',
] as const satisfies readonly ServerMessage['type'][];
export const CLIENT_MESSAGE_TYPES = [
  'text',
  'ping',
] as const satisfies readonly ClientMessage['type'][];

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/** The server's message, or null for anything that is not one (logged, never thrown). */
export function decodeServerMessage(data: string): ServerMessage | null {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null || !('type' in message)) return null;
  const { type } = message as { type: unknown };
  return (SERVER_MESSAGE_TYPES as readonly unknown[]).includes(type)
    ? (message as ServerMessage)
    : null;
}
