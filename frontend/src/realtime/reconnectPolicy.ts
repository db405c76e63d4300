/** When to try again after a connection closes, and how long to wait first. */

export interface BackoffOptions {
  /** The first retry waits up to this long. */
  readonly baseMs: number;
  /** No retry waits longer than this. */
  readonly capMs: number;
  /** Consecutive failed tries after which the client gives up until asked again. */
  readonly maxAttempts: number;
  /** A connection open this long counts as healthy: the next failure starts from scratch. */
  readonly stableAfterMs: number;
}

/**
 * Never give up by itself: a deploy, a rebuild or a laptop waking in a café can take minutes,
 * and the page should be back when the server is. The cap keeps a waiting client from hammering
 * a server on its way up; `maxAttempts` may still be set to a finite limit.
 */
export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 500,
  capMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  stableAfterMs: 10_000,
};

/**
 * Messages the server could not take yet (the chat's room_unavailable) are sent again after
 * the same backoff, shorter: the connection is fine, only the room is catching its breath.
 */
export const HELD_MESSAGE_BACKOFF: Pick<BackoffOptions, 'baseMs' | 'capMs'> = {
  baseMs: 500,
  capMs: 5_000,
};

/**
 * Exponential backoff with full jitter: a random wait between 0 and min(cap, base * 2^retry),
 * so that clients cut off together do not all come back in the same instant.
 * `retry` counts from 0 for the first retry.
 */
export function backoffDelay(
  retry: number,
  { baseMs, capMs }: Pick<BackoffOptions, 'baseMs' | 'capMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Codes after which trying again can help: the server went away or restarted, the network
 * dropped, the server was overloaded. Everything else is final: a refusal by policy (1008) or
 * by the application (4000-4999) will be refused again (a refused ticket aside, below), a
 * normal closure (1000) was meant, and a protocol or data error (1002, 1003, 1007, 1009, 1010)
 * would only repeat.
 */
const RETRY_CODES = new Set([
  1001, // going away: a server shutting down or a proxy restarting
  1005, // no status: the connection ended without a close frame's code
  1006, // abnormal closure: the network dropped, or the server could not be reached
  1011, // internal error
  1012, // service restart
  1013, // try again later
  1014, // bad gateway
]);

/**
 * A ticket the socket's server refused (used already, expired, or unknown to the process that
 * took the socket, with several processes): a fresh ticket may well pass, so a few are tried
 * in a row before the refusal stands.
 */
export const TICKET_REFUSALS_RETRIED = 3;

export function isTicketRefusal(code: number, reason: string): boolean {
  return code === 1008 && reason.startsWith('ticket');
}

/** `ticketRefusalsInARow`: ticket refusals since the last connection that opened. */
export function shouldReconnect(code: number, reason = '', ticketRefusalsInARow = 0): boolean {
  if (isTicketRefusal(code, reason)) return ticketRefusalsInARow < TICKET_REFUSALS_RETRIED;
  return RETRY_CODES.has(code);
}
