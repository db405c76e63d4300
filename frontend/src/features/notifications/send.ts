import { request, Unreachable } from '../../api/http';

/**
 * Sending a notification to another user: `POST /api/notifications` with `{"to", "text"}`,
 * as the signed-in user (the server names the sender, never the request). Every refusal is
 * said in the page's own words.
 */

// As the server takes them (backend/app/features/notifications/channels.py).
const RECIPIENT = /^[A-Za-z0-9_.@+-]{1,64}$/;
export const MAX_TEXT = 500;

export const RECIPIENT_RULE =
  "Send it to a user's name: 1 to 64 letters, digits, or the characters . _ @ + -";
export const TEXT_RULE = `Write the notification: 1 to ${MAX_TEXT} characters.`;

export interface NotificationProblem {
  readonly field: 'notify-to' | 'notify-text' | null;
  readonly error: string;
}

/** What is wrong with what was typed, where (the input's id), or null. */
export function checkNotification(to: string, text: string): NotificationProblem | null {
  if (!RECIPIENT.test(to)) return { field: 'notify-to', error: `${RECIPIENT_RULE}.` };
  if (text.trim() === '' || text.length > MAX_TEXT)
    return { field: 'notify-text', error: TEXT_RULE };
  return null;
}

export class NotificationRefused extends Error {
  constructor(
    message: string,
    readonly field: NotificationProblem['field'] = null,
  ) {
    super(message);
  }
}

async function detailOf(response: Response): Promise<unknown> {
  try {
    return ((await response.json()) as { detail?: unknown }).detail;
  } catch {
    return undefined;
  }
}

/** The server's answer in the page's words. */
export async function refusalOf(response: Response): Promise<NotificationRefused> {
  const detail = await detailOf(response);
  switch (response.status) {
    case 401:
      return new NotificationRefused(
        'Only a signed-in user can send a notification: set a session cookie on the Items page, then send it again.',
      );
    case 422: {
      const problems = Array.isArray(detail) ? (detail as { loc?: unknown[] }[]) : [];
      const fields = new Set(problems.map((problem) => problem.loc?.at(-1)));
      if (fields.has('to')) return new NotificationRefused(`${RECIPIENT_RULE}.`, 'notify-to');
      if (fields.has('text')) return new NotificationRefused(TEXT_RULE, 'notify-text');
      return new NotificationRefused(
        'The server could not read this notification: it was not sent.',
      );
    }
    case 429: {
      const wait = Number(response.headers.get('retry-after'));
      const when = Number.isFinite(wait) && wait > 0 ? `in ${Math.ceil(wait)} s` : 'in a moment';
      return new NotificationRefused(
        `You have sent many notifications in a short time: try again ${when}.`,
      );
    }
    case 503:
      return new NotificationRefused(
        'The notification could not be sent right now: try again in a moment.',
      );
    default:
      return new NotificationRefused(
        typeof detail === 'string'
          ? `The notification was not sent: ${detail}.`
          : `The notification was not sent (the server answered ${response.status}).`,
      );
  }
}

/** Sends `text` to `to`; rejects with a NotificationRefused that says why, in words. */
export async function sendNotification(to: string, text: string): Promise<void> {
  let response: Response;
  try {
    response = await request('/api/notifications', 'POST', { to, text });
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    throw new NotificationRefused(
      'The server could not be reached: the notification was not sent.',
    );
  }
  if (!response.ok) throw await refusalOf(response);
}
