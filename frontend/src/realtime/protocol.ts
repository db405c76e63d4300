/**
 * The subprotocols the pages offer, most preferred first; defined in backend/app/protocol.py
 * and described in docs/protocol.md.
 */

/** Typed JSON messages with ids, ping and pong, and typed errors. */
export const JSON_V1 = 'realtime.json.v1';

/**
 * The guide's text messages, unchanged, except that a refusal arrives as a close frame with its
 * code and reason. Without a subprotocol a refused handshake reaches the browser only as 1006.
 */
export const TEXT_V1 = 'realtime.text.v1';
