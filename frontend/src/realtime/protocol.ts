/**
 * The subprotocol every page negotiates: the guide's text messages, unchanged, except that a
 * refusal arrives as a close frame with its code and reason. Without it a refused handshake
 * reaches the browser only as 1006 with no reason. Defined in backend/app/protocol.py.
 */
export const TEXT_V1 = 'realtime.text.v1';
