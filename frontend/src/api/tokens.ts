/** Signed tokens from `POST /api/tokens`, for servers that verify them (APP_TOKEN_SECRET). */
import { callApi } from './session';

export interface SignedToken {
  readonly token: string;
  readonly subject: string;
  /** Milliseconds since the epoch, like `Date.now()`. */
  readonly expiresAt: number;
}

export async function requestSignedToken(subject: string): Promise<SignedToken> {
  const body: { token: string; subject: string; expires_at: number } = await (
    await callApi('/api/tokens', 'POST', { subject })
  ).json();
  return { token: body.token, subject: body.subject, expiresAt: body.expires_at * 1000 };
}
