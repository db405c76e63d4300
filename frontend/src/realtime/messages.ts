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

export type ServerMessage =
  | { readonly type: 'text'; readonly text: string; readonly reply_to: string | null }
  | { readonly type: 'pong'; readonly id: string; readonly sent_at: number }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly detail: string;
      readonly reply_to: string | null;
    };

export const SERVER_MESSAGE_TYPES = ['text', 'pong', 'error'] as const;
export const CLIENT_MESSAGE_TYPES = ['text', 'ping'] as const;

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
