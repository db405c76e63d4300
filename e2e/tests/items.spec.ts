import { expect, type Page, test } from '@playwright/test';
import { consoleErrors, receivedTexts as received, sendMessage } from './support/conversation';

async function connect(page: Page) {
  await page.getByRole('button', { name: 'Connect' }).click();
}

test('query token and q: the three messages of the guide', async ({ page }) => {
  await page.goto('/items');
  await page.getByLabel('Item ID', { exact: true }).fill('2');
  await page.getByLabel('Token', { exact: true }).fill('some-token');
  await page.getByLabel('q (optional integer)', { exact: true }).fill('3');
  await connect(page);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');

  await sendMessage(page, 'Message one');
  await expect(received(page)).toHaveText([
    'Session cookie or query token value is: some-token',
    'Query parameter q is: 3',
    'Message text was: Message one, for item ID: 2',
  ]);
});

test('session cookie: set through the API, HttpOnly, used by the socket', async ({ page }) => {
  await page.goto('/items');
  await expect(page.getByTestId('cookie-state')).toHaveText('Session cookie: not set');
  await page.getByLabel('Item ID', { exact: true }).fill('foo');
  await page.getByLabel('Session cookie', { exact: true }).check();
  await page.getByLabel('Session cookie value', { exact: true }).fill('fakesession');
  await connect(page);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await expect(page.getByTestId('cookie-state')).toHaveText('Session cookie: set');

  await sendMessage(page, 'Message one');
  await expect(received(page)).toHaveText([
    'Session cookie or query token value is: fakesession',
    'Message text was: Message one, for item ID: foo',
  ]);
  // No token in the socket's URL, and the page's scripts cannot read the cookie.
  expect(await page.evaluate(() => document.cookie)).toBe('');
  const [cookie] = await page.context().cookies();
  expect(cookie).toMatchObject({ name: 'session', value: 'fakesession', httpOnly: true });

  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('button', { name: 'Clear cookie' }).click();
  await expect(page.getByTestId('cookie-state')).toHaveText('Session cookie: not set');
  expect(await page.context().cookies()).toEqual([]);
});

test('no credential: the socket is refused with 1008 and its reason', async ({ page }) => {
  const errors = consoleErrors(page);
  await page.goto('/items');
  await page.getByLabel('Token', { exact: true }).fill('');
  await connect(page);
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveText(
    'Refused by the server: missing credentials: set the session cookie or the token query parameter (1008 policy violation)',
  );
  expect(errors).toEqual([]); // an expected refusal is no failed request in the console
  await expect(page.getByRole('log').locator('[data-kind="error"]')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
});

/** What the page asks of the server, from here on: sockets and API requests. */
function traffic(page: Page) {
  const seen: string[] = [];
  page.on('websocket', (socket) => seen.push(socket.url()));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') && request.method() !== 'GET') {
      seen.push(`${request.method()} ${url.pathname}`);
    }
  });
  return seen;
}

for (const { field, kind, value, words } of [
  {
    field: 'q (optional integer)',
    kind: 'token',
    value: 'abc',
    words: 'q must be a whole number, such as 3 or -12, or left empty.',
  },
  {
    field: 'Item ID',
    kind: 'token',
    value: 'a/b c?',
    words: 'An item ID cannot contain a slash (/).',
  },
  {
    field: 'Session cookie value',
    kind: 'cookie',
    value: 'two words',
    words:
      'A cookie value takes letters, digits and punctuation only: no spaces, quotes, commas, semicolons or backslashes.',
  },
]) {
  test(`${field} = ${JSON.stringify(value)} is refused where it is typed, in our words`, async ({
    page,
  }) => {
    await page.goto('/items');
    const seen = traffic(page);
    if (kind === 'cookie') await page.getByLabel('Session cookie', { exact: true }).check();
    const input = page.getByLabel(field, { exact: true });
    await input.fill(value);
    await expect(page.getByRole('alert')).toHaveText(words); // as it is typed
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await connect(page);
    await expect(input).toBeFocused();
    await expect(page.getByTestId('connection-status')).toHaveText('Not connected');
    expect(seen).toEqual([]); // nothing asked of the server: no socket, no ticket, no cookie
  });
}

test('a cookie value the server refuses is said in our words', async ({ page }) => {
  // A value the page lets through but a server with a shorter limit does not.
  await page.route('/api/config', async (route) => {
    const config = await (await route.fetch()).json();
    await route.fulfill({ json: { ...config, max_credential_length: 1024 } });
  });
  await page.goto('/items');
  await page.getByLabel('Session cookie', { exact: true }).check();
  await page.getByLabel('Session cookie value', { exact: true }).fill('x'.repeat(300));
  await connect(page);
  await expect(page.getByRole('alert')).toHaveText(
    'The session cookie was not set: the session value is longer than 256 characters',
  );
  await expect(page.getByTestId('connection-status')).toHaveText('Not connected');
});

test('text from the network is rendered as text, never as markup', async ({ page }) => {
  await page.goto('/items');
  const payload = '<img src=x onerror="window.__pwned=1">';
  await page.getByLabel('Item ID', { exact: true }).fill(payload);
  await connect(page);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await sendMessage(page, payload);
  await expect(received(page).last()).toHaveText(
    `Message text was: ${payload}, for item ID: ${payload}`,
  );
  expect(await page.evaluate(() => 'pwned' in window || '__pwned' in window)).toBe(false);
  await expect(page.locator('main img')).toHaveCount(0);
});
