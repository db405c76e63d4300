import { expect, type Page, test } from '@playwright/test';
import { joinChat as person, sendMessage as say } from './support/conversation';
import { OwnRedis } from './support/ownRedis';
import { freePort, OwnServer } from './support/ownServer';

const lines = (page: Page) => page.getByRole('log').locator('.log-entry');
const online = (page: Page) => page.getByTestId('online').locator('li');

async function chatBetween(alice: Page, bob: Page) {
  await expect(online(alice)).toHaveText(['#1 (you)', '#2']);
  await expect(online(bob)).toHaveText(['#1', '#2 (you)']);
  await expect(lines(alice).last()).toContainText('Client #2 joined the chat');
  await expect(lines(bob).last()).toContainText(/You joined [\w-]+ as #2/);

  await say(alice, 'Hello Bob');
  await expect(lines(bob).last()).toContainText('Client #1');
  await expect(lines(bob).last()).toContainText('Hello Bob');
  await say(bob, 'Hi Alice');
  await expect(lines(alice).last()).toContainText('Client #2');
  await expect(lines(alice).last()).toContainText('Hi Alice');
  // Alice's own line appears once, as hers, not again as the room's echo.
  await expect(alice.getByRole('log').getByText('Hello Bob')).toHaveCount(1);

  await bob.getByRole('button', { name: 'Leave' }).click();
  await expect(lines(alice).last()).toContainText('Client #2 left the chat');
  await expect(online(alice)).toHaveText(['#1 (you)']);
}

test('two people chat in one room', async ({ browser, baseURL }) => {
  const room = `e2e-${Date.now()}`;
  const alice = await person(browser, baseURL ?? '', 1, room);
  const bob = await person(browser, baseURL ?? '', 2, room);
  await chatBetween(alice, bob);
});

test('two people chat from two server processes sharing Redis', async ({ browser }) => {
  // Its own Redis and two servers start within the test: on a busy machine that alone can
  // take most of the default 30 s.
  test.setTimeout(60_000);
  const redis = await OwnRedis.start();
  const env = { APP_REDIS_URL: redis.url };
  const servers = [new OwnServer(await freePort(), env), new OwnServer(await freePort(), env)];
  try {
    await Promise.all(servers.map((server) => server.start()));
    for (const server of servers) {
      await expect
        .poll(async () => (await (await fetch(`${server.url}/api/health`)).json()).status)
        .toBe('ok');
    }
    const [first, second] = servers as [OwnServer, OwnServer];
    const alice = await person(browser, first.url, 1, 'general');
    const bob = await person(browser, second.url, 2, 'general');
    await chatBetween(alice, bob);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  }
});

test('a seat the server would refuse is explained as it is typed', async ({ page }) => {
  await page.goto('/chat');
  const number = page.getByLabel('Your number');
  await number.fill('twelve');
  await expect(page.getByRole('alert').first()).toHaveText(
    'Your number must be a whole number from 0 to 9007199254740991.',
  );
  await expect(number).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Room').focus();
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(number).toBeFocused();
  await expect(page.getByTestId('connection-status')).toHaveText('Not connected');
});
