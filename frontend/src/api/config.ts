/** The server's limits (`GET /api/config`): the frontend keeps no copy of them. */
import { callApi } from './session';

export interface ServerConfig {
  /** The largest WebSocket message, in bytes; a bigger one is closed with 1009. */
  readonly maxMessageBytes: number;
  /** The longest text in one message, in characters. */
  readonly maxTextLength: number;
  /** The longest session cookie or token, in characters. */
  readonly maxCredentialLength: number;
  /** Whether tokens must be signed by the server. */
  readonly signedTokens: boolean;
  /** Whether `POST /api/tokens` hands signed tokens out without a login (development). */
  readonly tokenMinting: boolean;
}

let loading: Promise<ServerConfig> | null = null;

/** Asked once per page load, and shared by every page. */
export function fetchServerConfig(): Promise<ServerConfig> {
  loading ??= callApi('/api/config', 'GET')
    .then((response) => response.json())
    .then(
      (body: {
        max_message_bytes: number;
        max_text_length: number;
        max_credential_length: number;
        signed_tokens: boolean;
        token_minting: boolean;
      }) => ({
        maxMessageBytes: body.max_message_bytes,
        maxTextLength: body.max_text_length,
        maxCredentialLength: body.max_credential_length,
        signedTokens: body.signed_tokens,
        tokenMinting: body.token_minting,
      }),
    )
    .catch((error: unknown) => {
      loading = null; // asked again next time
      throw error;
    });
  return loading;
}
