/**
 * The states of one logical connection, and what each one allows. Every component asks this
 * module, so "is it live", "can I send" and "can I retry now" mean the same everywhere.
 */
import { describeClose } from './closeCodes';

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

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
      readonly lastClose: CloseInfo;
    }
  /** The browser says there is no network: nothing is tried until it comes back. */
  | { readonly status: 'offline' }
  | {
      readonly status: 'closed';
      readonly close: CloseInfo;
      /** user: Disconnect; refused: a code not worth retrying; gave-up: the retry limit. */
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

const wholeSeconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))} s`;

/** `maxAttempts` shown only when there is one; `now` makes the countdown. */
export function describeState(
  state: ConnectionState,
  { maxAttempts = Number.POSITIVE_INFINITY, now = Date.now() } = {},
): string {
  const of = Number.isFinite(maxAttempts) ? ` of ${maxAttempts}` : '';
  switch (state.status) {
    case 'idle':
      return 'Not connected';
    case 'connecting':
      return state.retry === 0 ? 'Connecting…' : `Reconnecting… (try ${state.retry + 1})`;
    case 'open':
      return 'Connected';
    case 'waiting': {
      const what =
        state.retry === 1 ? 'Connection lost' : `Could not reconnect (${state.retry - 1} tries)`;
      const why = describeClose(state.lastClose.code, state.lastClose.reason);
      return `${what}: ${why}. Reconnecting in ${wholeSeconds(state.until - now)} (retry ${state.retry}${of})`;
    }
    case 'offline':
      return 'Offline: waiting for the network';
    case 'closed':
      switch (state.why) {
        case 'user':
          return 'Disconnected';
        case 'refused':
          return `Closed: ${describeClose(state.close.code, state.close.reason)}`;
        case 'gave-up':
          return `Gave up after ${maxAttempts} retries: ${describeClose(state.close.code, state.close.reason)}`;
      }
  }
}

/** The line the page's log keeps for a state: no countdown, and one line for many retries. */
export function describeStateForLog(state: ConnectionState, maxAttempts: number): string {
  if (state.status !== 'waiting') return describeState(state, { maxAttempts });
  const why = describeClose(state.lastClose.code, state.lastClose.reason);
  const failed = state.retry - 1;
  return failed === 0
    ? `Connection lost: ${why}. Reconnecting…`
    : `Connection lost: ${why}. Reconnecting… (${failed} ${failed === 1 ? 'try' : 'tries'} failed)`;
}
