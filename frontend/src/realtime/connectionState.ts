/**
 * The states of one logical connection, what each one allows, and the words and looks a page
 * shows for it. Every component asks this module, so "is it live", "can I send", "can I retry
 * now" and the status line mean the same everywhere.
 */
import { namedCode } from './closeCodes';

/** Why a connection ended, or why an attempt failed. */
export type Cause =
  /** The socket closed with this code and reason (the server's, or the browser's 1006). */
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string }
  /** The page stopped waiting for a socket that said nothing: no open, no pong, a long sleep. */
  | { readonly kind: 'stalled'; readonly detail: string }
  /** What comes before the socket (a ticket, say) failed or was refused: no socket opened. */
  | { readonly kind: 'not-opened'; readonly detail: string };

export type ConnectionState =
  | { readonly status: 'idle' }
  /** `retry`: 0 for a first connect, then the count of failed tries since the last good one. */
  | { readonly status: 'connecting'; readonly retry: number }
  | { readonly status: 'open'; readonly protocol: string }
  /** Between a lost connection and the next try, which starts at `until` (ms since epoch). */
  | {
      readonly status: 'waiting';
      readonly retry: number;
      readonly delayMs: number;
      readonly until: number;
      readonly cause: Cause;
      /** A connection was open since the last connect(): it was lost, not never made. */
      readonly connectedBefore: boolean;
    }
  /** The browser says there is no network: nothing is tried until it comes back. */
  | { readonly status: 'offline' }
  | {
      readonly status: 'closed';
      readonly cause: Cause;
      /** user: Disconnect; refused: a cause not worth retrying; gave-up: the retry limit. */
      readonly why: 'user' | 'refused' | 'gave-up';
    };

/** Open, or on its way back by itself: the page is "in" the conversation. */
export function isActive(state: ConnectionState): boolean {
  return (
    state.status === 'open' ||
    state.status === 'connecting' ||
    state.status === 'waiting' ||
    state.status === 'offline'
  );
}

/** Whether a message written now will go out, at once or when the connection is back. */
export const canSend = isActive;

/** Whether "Reconnect now" means something: a wait to skip, or a connection given up on. */
export function canRetryNow(state: ConnectionState): boolean {
  return state.status === 'waiting' || (state.status === 'closed' && state.why === 'gave-up');
}

/** Whether the state is bad news, for the page's log. */
export function isTrouble(state: ConnectionState): boolean {
  return (
    state.status === 'waiting' ||
    state.status === 'offline' ||
    (state.status === 'closed' && state.why !== 'user')
  );
}

/**
 * How the status dot looks, one look per meaning: up, trying, offline, stopped (never
 * connected, or you disconnected) and failed (refused, or given up on). Styled in styles.css.
 */
export type StateLook = 'open' | 'trying' | 'offline' | 'stopped' | 'failed';

export function stateLook(state: ConnectionState): StateLook {
  switch (state.status) {
    case 'open':
      return 'open';
    case 'connecting':
    case 'waiting':
      return 'trying';
    case 'offline':
      return 'offline';
    case 'idle':
      return 'stopped';
    case 'closed':
      return state.why === 'user' ? 'stopped' : 'failed';
  }
}

/** What a code means when the server gave no reason of its own. */
const PLAIN_MEANING: Readonly<Record<number, string>> = {
  1000: 'closed normally',
  1001: 'the server went away',
  1005: 'closed without a status',
  1006: 'the connection was cut, or the server could not be reached',
  1011: 'the server had an internal error',
  1012: 'the server is restarting',
  1013: 'the server is too busy',
  1014: 'a gateway could not reach the server',
};

/** The cause in plain words, with the close code named where there was one. */
export function describeCause(cause: Cause): string {
  if (cause.kind !== 'closed') return cause.detail;
  const meaning = cause.reason !== '' ? cause.reason : (PLAIN_MEANING[cause.code] ?? 'closed');
  return `${meaning} (${namedCode(cause.code)})`;
}

/** A refusal by policy or by the application, as against a server that closed for a reason. */
const isRefusalCode = (code: number) => code === 1008 || (code >= 4000 && code <= 4999);

const wholeSeconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))} s`;

function failedRetries(retry: number, maxAttempts: number): string {
  const failed = retry - 1;
  if (failed === 0) return '';
  const of = Number.isFinite(maxAttempts) ? ` of ${maxAttempts}` : '';
  return ` (${failed}${of} ${failed === 1 && of === '' ? 'retry' : 'retries'} failed)`;
}

type Waiting = Extract<ConnectionState, { status: 'waiting' }>;

/** "Connection lost: …" or "Could not connect: …", the first half of a waiting state's line. */
function whatWentWrong(state: Waiting): string {
  return `${state.connectedBefore ? 'Connection lost' : 'Could not connect'}: ${describeCause(state.cause)}`;
}

/** `maxAttempts` shown only when there is one; `now` makes the countdown. */
export function describeState(
  state: ConnectionState,
  { maxAttempts = Number.POSITIVE_INFINITY, now = Date.now() } = {},
): string {
  switch (state.status) {
    case 'idle':
      return 'Not connected';
    case 'connecting':
      return state.retry === 0 ? 'Connecting…' : 'Reconnecting…';
    case 'open':
      return 'Connected';
    case 'waiting':
      return `${whatWentWrong(state)}. Reconnecting in ${wholeSeconds(state.until - now)}${failedRetries(state.retry, maxAttempts)}.`;
    case 'offline':
      return 'Offline: waiting for the network';
    case 'closed': {
      const cause = describeCause(state.cause);
      switch (state.why) {
        case 'user':
          return 'Disconnected';
        case 'refused':
          if (state.cause.kind === 'not-opened') return `Refused before connecting: ${cause}`;
          if (state.cause.kind === 'closed' && isRefusalCode(state.cause.code)) {
            return `Refused by the server: ${cause}`;
          }
          return `Closed by the server: ${cause}`;
        case 'gave-up':
          return `Gave up after ${maxAttempts} ${maxAttempts === 1 ? 'retry' : 'retries'}: ${cause}`;
      }
    }
  }
}

/** The line the page's log keeps for a state: no countdown, and one line for many retries. */
export function describeStateForLog(state: ConnectionState, maxAttempts: number): string {
  if (state.status !== 'waiting') return describeState(state, { maxAttempts });
  return `${whatWentWrong(state)}. Reconnecting…${failedRetries(state.retry, maxAttempts)}`;
}

/** Why a message written now cannot go out, for a state in which `canSend` is false. */
export function whyNotSent(state: ConnectionState): string {
  if (state.status !== 'closed') return 'not connected';
  switch (state.why) {
    case 'user':
      return 'you disconnected';
    case 'refused':
      return 'the server refused the connection';
    case 'gave-up':
      return 'the page stopped trying to reconnect';
  }
}
