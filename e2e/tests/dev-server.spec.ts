import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type WebSocket } from '@playwright/test';

// Runs against `npm run dev`: the page comes from Vite, and the sockets pass its proxy.

test('echo works through the Vite proxy', async ({ page, baseURL }) => {
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto('/echo');
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('through the proxy');
  await box.press('Enter');
  await expect(page.getByRole('log')).toContainText('Message text was: through the proxy');
  expect(sockets).toContain(`${baseURL?.replace('http', 'ws')}/ws`);
});

test('the session cookie and the items socket work through the Vite proxy', async ({ page }) => {
  await page.goto('/items');
  await page.getByLabel('Session cookie', { exact: true }).check();
  await page.getByLabel('Session cookie value', { exact: true }).fill('dev-session');
  await page.getByLabel('q (optional integer)', { exact: true }).fill('7');
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('hi');
  await box.press('Enter');
  await expect(page.getByRole('log').locator('[data-kind="received"] .log-text')).toHaveText([
    'Session cookie or query token value is: dev-session',
    'Query parameter q is: 7',
    'Message text was: hi, for item ID: foo',
  ]);
});

test('a deep link is served by Vite, not forwarded to the backend', async ({ page }) => {
  await page.goto('/items');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Items');
});

test('a hot reload of the page keeps its one socket', async ({ page }) => {
  const sockets: WebSocket[] = [];
  page.on('websocket', (socket) => {
    if (new URL(socket.url()).pathname === '/ws') sockets.push(socket); // not Vite's own
  });
  await page.goto('/echo');
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');

  // An edit, as a developer makes one: Vite hot-updates the module in the page.
  const hotUpdated = page.waitForEvent('console', (message) =>
    message.text().includes('hot updated: /src/pages/EchoPage.tsx'),
  );
  const source = path.resolve(import.meta.dirname, '../../frontend/src/pages/EchoPage.tsx');
  const original = await readFile(source, 'utf8');
  try {
    await writeFile(source, `${original}// edited by dev-server.spec.ts\n`);
    await hotUpdated;
  } finally {
    await writeFile(source, original);
  }

  const box = page.getByLabel('Message', { exact: true });
  await box.fill('after the hot update');
  await box.press('Enter');
  await expect(page.getByRole('log')).toContainText('Message text was: after the hot update');
  expect(sockets).toHaveLength(1);
  expect(sockets[0]?.isClosed()).toBe(false);
});
