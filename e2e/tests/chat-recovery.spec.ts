import { expect, type Page } from '@playwright/test';
import {
  receivedTexts as heard,
  joinChat as person,
  sendMessage as say,
  connectionStatus as status,
} from './support/conversation';
import { test } from './support/ownServer';

/** The room's notices and the page's problems, as the log shows them. */
const notices = (page: Page) => page.getByRole('log').locator('[data-kind="event"] .log-text');
const problems = (page: Page) => page.getByRole('log').locator('[data-kind="error"] .log-text');

test('a page that was offline shows what it missed, once, in order, and says so', async ({
  browser,
  baseURL,
}) => {
  const room = `offline-${Date.now()}`;
  const alice = await person(browser, baseURL ?? '', 1, room);
  const bob = await person(browser, baseURL ?? '', 2, room);
  await say(alice, 'before');
  await expect(heard(bob)).toHaveText(['before']);

  await bob.context().setOffline(true);
  await expect(status(bob)).toHaveText('Offline: waiting for the network');
  for (const text of ['one', 'two', 'three']) await say(alice, text);
  await expect(alice.getByRole('log').locator('[data-delivery="answered"]')).toHaveCount(4);

  await bob.context().setOffline(false);
  await expect(status(bob)).toHaveText('Connected');
  await expect(notices(bob).last()).toHaveText('Recovered 3 missed messages.');
  await bob.waitForTimeout(500); // time for a duplicate, were there one
  await expect(heard(bob)).toHaveText(['before', 'one', 'two', 'three']);
  await expect(problems(bob)).toHaveCount(1); // the Offline line only
});

test.describe('a chat server that restarts without Redis', () => {
  // A server restarted while the pages wait: its start, and the backoff the pages are in by
  // then (up to 30 s), can pass the default 30 s on a busy machine.
  test.describe.configure({ timeout: 60_000 });
  test('says that messages may be missing, and what was typed meanwhile arrives once', async ({
    ownServer: server,
    browser,
  }) => {
    const room = 'restart';
    const alice = await person(browser, server.url, 1, room);
    const bob = await person(browser, server.url, 2, room);
    await say(alice, 'first');
    await expect(heard(bob)).toHaveText(['first']);

    await server.stop();
    await expect(status(alice)).toContainText('Reconnecting');
    await say(alice, 'typed while the server was down');
    const pending = alice
      .getByRole('log')
      .locator('[data-kind="sent"]')
      .filter({ hasText: 'typed while the server was down' })
      .locator('.log-delivery');
    await expect(pending).toHaveText('waiting for the connection');

    await server.start();
    for (const page of [alice, bob]) {
      await expect(status(page)).toHaveText('Connected', { timeout: 35_000 });
      // The room's history died with the process: each page says so.
      await expect(problems(page).last()).toHaveText(
        "Some messages may be missing: the room's history was lost (the server restarted without Redis).",
      );
    }
    await expect(pending).toHaveText('delivered');
    await expect(heard(bob)).toHaveText(['first', 'typed while the server was down']);
    await bob.waitForTimeout(1_000);
    await expect(heard(bob)).toHaveText(['first', 'typed while the server was down']);
    await expect(
      alice.getByRole('log').getByText('typed while the server was down', { exact: true }),
    ).toHaveCount(1);
  });
});
