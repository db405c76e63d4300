/**
 * The subprotocols the pages offer, most preferred first; the server's names for them are
 * `Dialect` in backend/app/conversation/dialects.py, and docs/protocol.md describes both.
 */

/** Typed JSON messages with ids, ping and pong, and typed errors. */
export const JSON_V1 = 'realtime.json.v1';

/**
 * The guide's text messages, unchanged, except that a refusal arrives as a close frame with its
 * code and reason. Without a subprotocol a refused handshake reaches the browser only as 1006.
 */
export const TEXT_V1 = 'realtime.text.v1';
