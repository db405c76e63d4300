import { expect, type Page } from '@playwright/test';
import {
  receivedTexts as received,
  sendMessage as send,
  connectionStatus as status,
} from './support/conversation';
import { test } from './support/ownServer';

/** What the page shows of one sent message: waiting, sent or answered. */
const delivery = (page: Page, text: string) =>
  page
    .getByRole('log')
    .locator('[data-kind="sent"]')
    .filter({ hasText: text })
    .locator('.log-delivery');

test.describe('a page that keeps its connection and its messages', () => {
  test('keeps trying through a minute-long outage and is back by itself', async ({
    ownServer: server,
    page,
  }) => {
    test.setTimeout(150_000);
    await page.goto(`${server.url}/echo`);
    await expect(status(page)).toHaveText('Connected');
    await server.stop();

    // A countdown to the next try, all the while, and never a give-up.
    await expect(status(page)).toHaveText(/Reconnecting in \d+ s/);
    const seen = new Set<string>();
    for (let second = 0; second < 60; second++) {
      const text = (await status(page).textContent()) ?? '';
      expect(text).not.toContain('Gave up');
      seen.add(text);
      await page.waitForTimeout(1_000);
    }
    expect(seen.size).toBeGreaterThan(5); // it counted down and tried again, many times
    await expect(page.getByRole('button', { name: 'Reconnect now' })).toBeVisible();

    await server.start();
    // Within the backoff cap (30 s) of the server's return, without a click.
    await expect(status(page)).toHaveText('Connected', { timeout: 35_000 });
    await send(page, 'after the outage');
    await expect(received(page)).toHaveText(['Message text was: after the outage']);
  });

  test('says at once that it is offline, and answers what was typed once back', async ({
    ownServer: server,
    page,
    context,
  }) => {
    await page.goto(`${server.url}/echo`);
    await expect(status(page)).toHaveText('Connected');
    await context.setOffline(true);
    await expect(status(page)).toHaveText('Offline: waiting for the network', { timeout: 1_000 });
    await send(page, 'typed offline');
    await expect(delivery(page, 'typed offline')).toHaveText('waiting for the connection');
    await expect(page.getByTestId('queued')).toHaveText('1 waiting');

    await context.setOffline(false);
    await expect(status(page)).toHaveText('Connected');
    await expect(delivery(page, 'typed offline')).toHaveText('answered');
    await page.waitForTimeout(1_000); // time for a second answer, were there one
    await expect(received(page)).toHaveText(['Message text was: typed offline']);
  });

  test('a message sent to a server that froze is answered once, by its replacement', async ({
    ownServer: server,
    page,
  }) => {
    await page.goto(`${server.url}/echo`);
    await expect(status(page)).toHaveText('Connected');
    server.freeze(); // SIGSTOP: the socket stays open, nothing answers
    await send(page, 'into the void');
    await expect(delivery(page, 'into the void')).toHaveText('sent');
    await server.kill();
    await server.start(); // a fresh process on the same port
    await expect(status(page)).toHaveText('Connected', { timeout: 30_000 });
    await expect(delivery(page, 'into the void')).toHaveText('answered');
    await page.waitForTimeout(1_000);
    await expect(received(page)).toHaveText(['Message text was: into the void']);
  });
});
