/** The one way the pages call the HTTP API: JSON in, the response out, same-origin cookies. */

/** No answer came at all: fetch rejected ("Failed to fetch" in Chromium). */
export class Unreachable extends Error {
  constructor() {
    super('the server could not be reached');
  }
}

export async function request(
  path: string,
  method: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<Response> {
  try {
    return await fetch(path, {
      method,
      headers:
        body === undefined ? { ...headers } : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new Unreachable();
  }
}
