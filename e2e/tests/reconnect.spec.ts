import { expect } from '@playwright/test';
import {
  receivedTexts as received,
  sendMessage as send,
  connectionStatus as status,
} from './support/conversation';
import { test } from './support/ownServer';

test.describe('a server that restarts', () => {
  // A server restarted while the pages wait: its start, and the backoff the pages are in by
  // then (up to 30 s), can pass the default 30 s on a busy machine.
  test.describe.configure({ timeout: 60_000 });
  test('every page reconnects by itself and delivers what was typed meanwhile', async ({
    ownServer: server,
    context,
  }) => {
    const echo = await context.newPage();
    await echo.goto(`${server.url}/echo`);
    await expect(status(echo)).toHaveText('Connected');
    await expect(echo.getByTestId('round-trip')).toHaveText(/^\d+ ms$/);

    const items = await context.newPage();
    await items.goto(`${server.url}/items`);
    await items.getByRole('button', { name: 'Connect' }).click();
    await expect(status(items)).toHaveText('Connected');

    await server.stop();
    for (const page of [echo, items]) {
      await expect(status(page)).toContainText('Reconnecting');
    }

    await send(echo, 'typed while the server was down');
    await expect(echo.getByTestId('queued')).toHaveText('1 waiting');
    await expect(echo.getByRole('log').locator('[data-kind="sent"]').last()).toContainText(
      'waiting for the connection',
    );
    await send(items, 'also typed while down');
    await expect(items.getByTestId('queued')).toHaveText('1 waiting');

    await server.start();
    for (const page of [echo, items]) {
      await expect(status(page)).toHaveText('Connected', { timeout: 15_000 });
      await expect(page.getByTestId('queued')).toHaveCount(0);
    }
    await expect(received(echo)).toHaveText(['Message text was: typed while the server was down']);
    await expect(received(items).last()).toHaveText(
      'Message text was: also typed while down, for item ID: foo',
    );
    // The outage was announced once, in one line however many tries it took.
    const trouble = echo.getByRole('log').locator('[data-kind="error"]');
    await expect(trouble).toHaveCount(1);
    await expect(trouble).toContainText(/Connection lost: .* Reconnecting…/);
  });
});

test('a dead peer is noticed and the connection opened again', async ({ page }) => {
  let connections = 0;
  let firstIsDead = false;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const index = connections++;
    const server = ws.connectToServer();
    const alive = () => !(index === 0 && firstIsDead);
    ws.onMessage((message) => {
      if (alive()) server.send(message);
    });
    server.onMessage((message) => {
      if (alive()) ws.send(message);
    });
  });
  await page.goto('/echo');
  await expect(status(page)).toHaveText('Connected');
  await expect(page.getByTestId('round-trip')).toBeVisible();

  firstIsDead = true; // frames vanish both ways, as when a network silently drops the route
  await expect(page.getByRole('log')).toContainText('no answer to a ping', { timeout: 15_000 });
  await expect(status(page)).toHaveText('Connected', { timeout: 15_000 });
  expect(connections).toBe(2);
  await send(page, 'on the new connection');
  await expect(received(page)).toHaveText(['Message text was: on the new connection']);
});

test('binary echo round-trips a file byte for byte', async ({ page }) => {
  const file = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7) % 256));
  const echoed: Buffer[] = [];
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') echoed.push(payload);
    }),
  );
  await page.goto('/echo');
  await expect(status(page)).toHaveText('Connected');
  await page.getByText('Binary messages').click();
  await page.getByLabel('Or a file').setInputFiles({
    name: 'sample.bin',
    mimeType: 'application/octet-stream',
    buffer: file,
  });
  await expect(received(page)).toHaveText([
    '4,096 bytes: 00 07 0e 15 1c 23 2a 31 38 3f 46 4d 54 5b 62 69 …',
  ]);
  expect(Buffer.concat(echoed).equals(file)).toBe(true);

  await page.getByLabel('Bytes in hex').fill('48 65 6c 6c 6f');
  await page.getByRole('button', { name: 'Send bytes' }).click();
  await expect(received(page).last()).toHaveText('5 bytes: 48 65 6c 6c 6f');

  await page.getByLabel('Bytes in hex').fill('4');
  await page.getByRole('button', { name: 'Send bytes' }).click();
  await expect(page.getByText('Hex bytes come in pairs of digits.')).toBeVisible();
});
