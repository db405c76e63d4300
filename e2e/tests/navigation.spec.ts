import { expect, test } from '@playwright/test';

test('home explains both endpoints and links to them', async ({ page }) => {
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
