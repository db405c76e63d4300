import { describe, expect, it } from 'vitest';
import { readableError } from './session';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('readableError', () => {
  it("joins the messages of FastAPI's 422", async () => {
    const response = json(422, {
      detail: [{ loc: ['body', 'value'], msg: 'String should have at least 1 character' }],
    });
    expect(await readableError(response)).toBe('String should have at least 1 character');
  });

  it('passes a plain detail through', async () => {
    expect(await readableError(json(400, { detail: 'There was an error parsing the body' }))).toBe(
      'There was an error parsing the body',
    );
  });

  it('falls back to the status when the body is not JSON', async () => {
    const response = new Response('<html>Bad gateway</html>', {
      status: 502,
      statusText: 'Bad Gateway',
    });
    expect(await readableError(response)).toBe('502 Bad Gateway');
  });
});
