import { expect, type Page, test } from '@playwright/test';
import { joinChat, sendMessage as say, connectionStatus as status } from './support/conversation';

const lines = (page: Page) => page.getByRole('log').locator('.log-entry');
const online = (page: Page) => page.getByTestId('online').locator('li');
const sentLines = (page: Page) => page.getByRole('log').locator('[data-kind="sent"]');

test('the room is in the address, the number is kept, and a reload rejoins as oneself', async ({
  page,
}) => {
  const room = `keep-${Date.now()}`;
  await page.goto('/chat');
  await page.getByLabel('Your number').fill('11');
  await page.getByLabel('Room').fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
  // What one does after joining is write: the box has the focus, not the page.
  await expect(page.getByLabel('Message', { exact: true })).toBeFocused();
  await expect(status(page)).toHaveText('Connected');
  await expect(page).toHaveURL(new RegExp(`/chat\\?room=${room}$`));
  await say(page, 'before the reload');
  await expect(sentLines(page).locator('.log-delivery')).toHaveText('delivered');

  await page.reload();
  await expect(status(page)).toHaveText('Connected'); // by itself, without a click
  await expect(page.getByLabel('Your number')).toHaveValue('11');
  await expect(page.getByLabel('Room')).toHaveValue(room);
  // What this number said before is its own; its own comings and goings are not news to it.
  await expect(sentLines(page)).toHaveText([/^You.*before the reload$/]);
  await expect(lines(page).filter({ hasText: 'Client #11' })).toHaveCount(0);
  await expect(lines(page).filter({ hasText: 'You joined' })).toHaveCount(1);

  // Leaving on purpose is not undone by a reload.
  await page.getByRole('button', { name: 'Leave' }).click();
  await expect(page.getByRole('button', { name: 'Join' })).toBeFocused();
  await page.reload();
  await expect(status(page)).toHaveText('Not connected');
  await expect(page.getByLabel('Your number')).toHaveValue('11');
});

test('the Online panel follows the connection', async ({ browser, baseURL }) => {
  const room = `panel-${Date.now()}`;
  const page = await joinChat(browser, baseURL ?? '', 5, room);
  await expect(online(page)).toHaveText(['#5 (you)']);
  await page.context().setOffline(true);
  await expect(page.getByTestId('presence-note')).toHaveText(
    `Offline: who is in ${room} shows again once the network is back.`,
  );
  await page.context().setOffline(false);
  await expect(online(page)).toHaveText(['#5 (you)']);
});

test('one number in two browsers is one member, and each page says so', async ({
  browser,
  baseURL,
}) => {
  const room = `twice-${Date.now()}`;
  const here = await joinChat(browser, baseURL ?? '', 11, room);
  await expect(here.getByTestId('also-elsewhere')).toHaveCount(0);
  // A later second on the server's clock: the page tells its own joining from the first
  // connection's by the time the room placed it (see ChatPage.tsx).
  await here.waitForTimeout(1_100);
  const elsewhere = await joinChat(browser, baseURL ?? '', 11, room);
  await expect(elsewhere.getByTestId('also-elsewhere')).toHaveText(
    '#11 was already connected elsewhere when you joined (another tab or browser): the room counts the two as one member, and what either says shows as yours.',
  );
  const other = await joinChat(browser, baseURL ?? '', 12, room);
  await expect(online(other)).toHaveText(['#11', '#12 (you)']);
  await expect(lines(other).filter({ hasText: 'Client #11 joined the chat' })).toHaveCount(1);

  // What the number says from one browser is its own in the other.
  await say(elsewhere, 'said elsewhere');
  await expect(sentLines(here).filter({ hasText: 'said elsewhere' })).toHaveText(/^You/);

  // One connection of the two leaves: the number is still there, and nobody is told otherwise.
  await elsewhere.getByRole('button', { name: 'Leave' }).click();
  await say(other, 'still here?');
  await expect(lines(here).last()).toContainText('still here?');
  await expect(lines(other).filter({ hasText: 'Client #11 left' })).toHaveCount(0);
  await expect(lines(here).filter({ hasText: '#11 left' })).toHaveCount(0);
  await expect(online(other)).toHaveText(['#11', '#12 (you)']);

  // Its last connection leaves: once.
  await here.getByRole('button', { name: 'Leave' }).click();
  await expect(lines(other).filter({ hasText: 'Client #11 left the chat' })).toHaveCount(1);
  await expect(online(other)).toHaveText(['#12 (you)']);
});
