import { expect, test } from '@playwright/test';
import { connectionStatus, consoleErrors, sendMessage } from './support/conversation';
import { openServerPage } from './support/operator';

test('home explains the endpoints and links to them', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    "FastAPI's WebSockets guide, made real",
  );
  await page.getByRole('main').getByRole('link', { name: 'Items' }).click();
  await expect(page).toHaveURL(/\/items$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Items');
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Items' })).toHaveAttribute(
    'aria-current',
    'page',
  );
});

test('a reload on a deep link serves the same page', async ({ page }) => {
  await page.goto('/items');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Items');
  await page.goto('/echo');
  await page.reload();
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
});

test('an unknown page says so', async ({ page }) => {
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
});

test('a missing asset is a 404, not the app', async ({ page, request }) => {
  expect((await request.get('/assets/missing-0000.js')).status()).toBe(404);
  // Also when typed into the address bar, which asks for HTML.
  const navigation = await page.goto('/assets/missing-0000.js');
  expect(navigation?.status()).toBe(404);
});

test('leaving a page closes its socket', async ({ page }) => {
  const opened = page.waitForEvent('websocket');
  await page.goto('/echo');
  const socket = await opened;
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByRole('navigation').getByRole('link', { name: 'Home' }).click();
  await expect.poll(() => socket.isClosed()).toBe(true);
});

test('every page has a title of its own', async ({ page }) => {
  const titles: string[] = [];
  for (const [path, name] of [
    ['/', 'Home'],
    ['/echo', 'Echo'],
    ['/items', 'Items'],
    ['/chat', 'Chat'],
    ['/server', 'Server'],
    ['/notifications', 'Notifications'],
    ['/no/such/page', 'Page not found'],
  ] as const) {
    await page.goto(path);
    await expect(page).toHaveTitle(`${name} · FastAPI + React real-time`);
    titles.push(await page.title());
  }
  expect(new Set(titles).size).toBe(titles.length);
});

test('home has a card for every page of the navigation', async ({ page }) => {
  await page.goto('/');
  const pages = await page.getByRole('navigation').getByRole('link').allTextContents();
  const cards = await page.locator('.cards .card h2').allTextContents();
  expect(cards).toEqual(pages.filter((name) => name !== 'Home'));
});

test('an ordinary visit of every page writes no error to the console', async ({ page }) => {
  const errors = consoleErrors(page);
  await page.goto('/');
  await page.goto('/echo');
  await expect(connectionStatus(page)).toHaveText('Connected');
  await sendMessage(page, 'hello');
  await expect(page.getByRole('log')).toContainText('Message text was: hello');
  // The refusals the pages are there to show: without a credential, a guest in the chat.
  await page.goto('/items');
  await page.getByLabel('Token', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(connectionStatus(page)).toHaveText(/^Refused by the server: missing credentials/);
  await page.goto('/chat');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(connectionStatus(page)).toHaveText('Connected');
  await expect(page.getByTestId('chat-identity')).toContainText('Joined as a guest');
  await openServerPage(page);
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  expect(errors).toEqual([]);
});
