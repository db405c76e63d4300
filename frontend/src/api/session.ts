/** The HttpOnly `session` cookie, which page scripts cannot read, set and cleared by the API. */

import { request, Unreachable } from './http';

export class ApiError extends Error {}

/** FastAPI's 422 lists problems as `{detail: [{loc, msg}]}`; other errors as `{detail: "…"}`. */
export async function readableError(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null && 'detail' in body) {
      const { detail } = body;
      if (typeof detail === 'string') return detail;
      if (Array.isArray(detail)) {
        return detail
          .map((problem: { msg?: unknown }) => String(problem.msg ?? 'invalid'))
          .join('; ');
      }
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

export async function callApi(path: string, method: string, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await request(path, method, body);
  } catch (error) {
    if (error instanceof Unreachable) throw new ApiError(error.message);
    throw error;
  }
  if (!response.ok) throw new ApiError(await readableError(response));
  return response;
}

/** Dispatched on `window` when the page sets or clears its session: who it is may change. */
export const SESSION_CHANGED = 'app:session-changed';
const sessionChanged = () => window.dispatchEvent(new Event(SESSION_CHANGED));

export async function startSession(value: string): Promise<void> {
  await callApi('/api/session', 'POST', { value });
  sessionChanged();
}

export async function endSession(): Promise<void> {
  await callApi('/api/session', 'DELETE');
  sessionChanged();
}

export interface SessionState {
  readonly active: boolean;
  /** The server's clock when it answered (its Date header, whole seconds), if it said. */
  readonly serverTime: number | null;
}

/** Whether a session cookie is set: a question that never fails with a 4xx, unlike a ticket. */
export async function sessionState(): Promise<SessionState> {
  const response = await callApi('/api/session', 'GET');
  const state: { active: boolean } = await response.json();
  const date = Date.parse(response.headers.get('date') ?? '');
  return { active: state.active, serverTime: Number.isNaN(date) ? null : date };
}

export async function hasSession(): Promise<boolean> {
  return (await sessionState()).active;
}
