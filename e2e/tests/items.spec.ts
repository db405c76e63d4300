import { expect, type Page, test } from '@playwright/test';
import { receivedTexts as received, sendMessage } from './support/conversation';

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

test('no credential: the page shows the refusal as 1008 with its reason', async ({ page }) => {
  await page.goto('/items');
  await page.getByLabel('Token', { exact: true }).fill('');
  await connect(page);
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveText(
    'Closed: 1008 policy violation: missing credentials: set the session cookie or send Authorization: Bearer <token>',
  );
  await expect(page.getByRole('log').locator('[data-kind="error"]')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
});

test('a q that is not an integer is refused with 1008, naming q', async ({ page }) => {
  await page.goto('/items');
  await page.getByLabel('q (optional integer)', { exact: true }).fill('bar');
  await connect(page);
  await expect(page.getByTestId('connection-status')).toHaveText(
    'Closed: 1008 policy violation: q: Input should be a valid integer, unable to parse string as an integer',
  );
});

test('a cookie value the server refuses gets a readable message, and no socket', async ({
  page,
}) => {
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto('/items');
  await page.getByLabel('Session cookie', { exact: true }).check();
  await page.getByLabel('Session cookie value', { exact: true }).fill('two words');
  await connect(page);
  await expect(page.getByRole('alert')).toHaveText(
    'The session cookie was not set: Value error, may contain only letters, digits and punctuation, without spaces, quotes, commas, semicolons or backslashes',
  );
  await expect(page.getByTestId('connection-status')).toHaveText('Not connected');
  expect(sockets).toEqual([]);
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
