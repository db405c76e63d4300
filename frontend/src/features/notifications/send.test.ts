import { describe, expect, it } from 'vitest';
import { checkNotification, RECIPIENT_RULE, refusalOf, TEXT_RULE } from './send';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('sending a notification', () => {
  it('checks what is typed as the server would', () => {
    expect(checkNotification('bob', 'Lunch?')).toBeNull();
    expect(checkNotification('bob.smith+news@example.org', 'x')).toBeNull();
    expect(checkNotification('b ob', 'Lunch?')?.field).toBe('notify-to');
    expect(checkNotification('', 'Lunch?')?.field).toBe('notify-to');
    expect(checkNotification('bób', 'Lunch?')?.field).toBe('notify-to');
    expect(checkNotification('bob', '   ')?.field).toBe('notify-text');
    expect(checkNotification('bob', 'x'.repeat(501))?.field).toBe('notify-text');
  });

  it('says each refusal in its own words, never the validation library’s', async () => {
    const unauthorized = await refusalOf(json(401, { detail: 'missing credentials: …' }));
    expect(unauthorized.message).toBe(
      'Only a signed-in user can send a notification: set a session cookie on the Items page, then send it again.',
    );
    const to = await refusalOf(
      json(422, { detail: [{ loc: ['body', 'to'], msg: "String should match pattern '^…$'" }] }),
    );
    expect(to.message).toBe(`${RECIPIENT_RULE}.`);
    expect(to.field).toBe('notify-to');
    const text = await refusalOf(
      json(422, {
        detail: [{ loc: ['body', 'text'], msg: 'String should have at least 1 character' }],
      }),
    );
    expect(text.message).toBe(TEXT_RULE);
    const tooMany = await refusalOf(
      json(429, { detail: 'too many notifications sent' }, { 'retry-after': '3' }),
    );
    expect(tooMany.message).toBe(
      'You have sent many notifications in a short time: try again in 3 s.',
    );
    expect((await refusalOf(json(503, { detail: '…' }))).message).toBe(
      'The notification could not be sent right now: try again in a moment.',
    );
  });
});
