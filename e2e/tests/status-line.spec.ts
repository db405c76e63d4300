import { expect, type Page, test as plain } from '@playwright/test';
import { connectionStatus as status } from './support/conversation';
import { test } from './support/ownServer';

/** The status dot's shape and fill, as a person sees it (not only its colour). */
const lookOf = (page: Page) =>
  page.locator('.status-dot').evaluate((dot) => {
    const style = getComputedStyle(dot);
    const filled = style.backgroundColor !== 'rgba(0, 0, 0, 0)';
    return `${style.borderTopLeftRadius} ${style.borderTopStyle} ${filled ? 'filled' : 'empty'}`;
  });

plain(
  'a ticket request that fails is said as such, not as a socket that closed',
  async ({ page }) => {
    await page.route('**/api/ws-tickets', (route) => route.abort('connectionrefused'));
    await page.goto('/items');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText(
      /^Could not connect: no ticket: the server could not be reached\. Reconnecting in \d+ s/,
    );
    await expect(status(page)).not.toContainText('1006');
  },
);

test('Reconnect now skips the wait and keeps counting the failed retries', async ({
  ownServer: server,
  page,
}) => {
  await page.goto(`${server.url}/echo`);
  await expect(status(page)).toHaveText('Connected');
  await server.stop();
  const failedSoFar = async () =>
    Number(/\((\d+) retries failed\)/.exec((await status(page).textContent()) ?? '')?.[1] ?? 0);
  await expect(status(page)).toHaveText(
    /^Connection lost: the connection was cut, or the server could not be reached \(1006 abnormal closure\)\. Reconnecting in \d+ s \(\d+ retries failed\)\.$/,
    { timeout: 15_000 },
  );
  const before = await failedSoFar();
  await page.getByRole('button', { name: 'Reconnect now' }).click();
  // The skipped-to try fails too: the count goes on from where it was, never back to none.
  // (The timer's own tries may fail beside it, so no upper bound: only that it never resets.)
  await expect.poll(failedSoFar).toBeGreaterThan(before);
  await expect(status(page)).toHaveText(/\(\d+ retries failed\)\.$/);
  expect(await failedSoFar()).toBeGreaterThan(before);
});

test('your own Disconnect, a refusal and trying again each have a look of their own', async ({
  ownServer: server,
  page,
  context,
}) => {
  await page.goto(`${server.url}/echo`);
  await expect(status(page)).toHaveText('Connected');
  await server.stop();
  await expect(status(page)).toContainText('Reconnecting');
  const trying = await lookOf(page);
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(status(page)).toHaveText('Disconnected');
  const disconnected = await lookOf(page);

  await server.start();
  const items = await context.newPage();
  await items.goto(`${server.url}/items`);
  await items.getByLabel('Token', { exact: true }).fill('');
  await items.getByRole('button', { name: 'Connect' }).click();
  await expect(status(items)).toHaveText(/^Refused by the server: /);
  const refused = await lookOf(items);

  expect(new Set([trying, disconnected, refused]).size).toBe(3);
});

plain('Enter while disconnected says what became of the message', async ({ page }) => {
  await page.goto('/echo');
  await expect(status(page)).toHaveText('Connected');
  await page.getByRole('button', { name: 'Disconnect' }).click();
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('not yet');
  await box.press('Enter');
  await expect(page.getByRole('alert').first()).toHaveText(
    'Not sent: you disconnected. Press Connect, then send it again: it is still in the box.',
  );
  await expect(box).toHaveValue('not yet');
});
