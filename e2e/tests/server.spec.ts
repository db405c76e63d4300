import { once } from 'node:events';
import net from 'node:net';
import { expect, test as plain } from '@playwright/test';
import { connectionStatus as status } from './support/conversation';
import { METRICS_TOKEN, openServerPage } from './support/operator';
import { freePort, OwnServer, test } from './support/ownServer';

const access = (page: import('@playwright/test').Page) => page.getByTestId('live-access');

plain(
  'the server page shows connections and refusals as they happen, in words',
  async ({ page, context, baseURL }) => {
    await openServerPage(page);
    // Connected: nothing to connect to, only to leave.
    await expect(page.getByRole('button', { name: 'Connect', exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Disconnect' })).toBeVisible();
    const echoRow = page.getByTestId('endpoints').getByRole('row', { name: /^\/ws\s/ });
    await expect(echoRow).toBeVisible();
    const before = Number(await echoRow.getByRole('cell').first().textContent());

    const echo = await context.newPage();
    await echo.goto('/echo');
    await expect(status(echo)).toHaveText('Connected');
    await expect(echoRow.getByRole('cell').first()).toHaveText(String(before + 1));
    await expect(page.getByTestId('broker')).toContainText('connected');

    // A socket without credentials is refused: the refusal appears, named.
    const own = new URL(baseURL ?? '');
    await echo.evaluate(
      (url) =>
        new Promise((resolve) => {
          new WebSocket(url).onclose = resolve;
        }),
      `ws://${own.host}/items/1/ws`,
    );
    await expect(page.getByRole('region', { name: 'Latest refusals' })).toContainText(
      '/items/{item_id}/ws credentials: no credential, or one that was not accepted',
    );
    await echo.close();
    // And the echo page's departure, its code named as the other pages name codes.
    await expect(page.getByRole('region', { name: 'Latest disconnects' })).toContainText(
      '/ws 1001 going away, closed by the client',
    );
  },
);

test.describe('a server that lets no one in without the operator token', () => {
  test('asks for it, says when it is refused, and looks with it', async ({
    ownServer: server,
    page,
  }) => {
    await page.goto(`${server.url}/server`);
    await expect(status(page)).toHaveText(/^Refused by the server: /);
    await expect(access(page)).toHaveText(
      'This server asks for the operator token: type it above and press Connect.',
    );

    const token = page.getByLabel('Operator token');
    await token.fill('not-the-operator-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText(
      'Refused before connecting: no ticket: /api/live needs the operator role, which the credential lacks',
    );
    await expect(access(page)).toContainText('The server did not take this token');

    await token.fill(METRICS_TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText('Connected');
    await expect(access(page)).toHaveText('Looking with the operator token.');
    await expect(page.getByTestId('endpoints')).toBeVisible();
  });
});

plain(
  'a token that a server letting this machine in never checks is said to be ignored',
  async ({ page }) => {
    const server = new OwnServer(await freePort(), { APP_OPERATOR_ON_LOOPBACK: 'true' });
    await server.start();
    try {
      await page.goto(`${server.url}/server`);
      await expect(status(page)).toHaveText('Connected');
      await expect(access(page)).toContainText('Looking without a token');

      await page.getByLabel('Operator token').fill('a-wrong-token-of-sixteen-characters');
      await expect(page.getByTestId('token-unused')).toBeVisible();
      await page.getByRole('button', { name: 'Reconnect with this token' }).click();
      await expect(status(page)).toHaveText('Connected');
      await expect(access(page)).toHaveText(
        'The token was not checked: this server lets this browser in without one, so any token, right or wrong, is ignored here.',
      );
    } finally {
      await server.stop();
    }
  },
);

/** A TCP connection that sends `head` (perhaps nothing) and waits for the server to close it. */
async function stalledConnection(port: number, head: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  if (head !== '') socket.write(head);
  socket.resume(); // read whatever the server answers (a 408), until it closes
  await once(socket, 'close');
}

plain(
  'an idle preconnection is not shown as a refusal; a stalled request head is',
  async ({ page }) => {
    // Browsers open connections ahead of need and may never send a byte on them.
    const server = new OwnServer(await freePort(), { APP_REQUEST_HEAD_TIMEOUT: '1' });
    await server.start();
    try {
      await openServerPage(page, `${server.url}/server`);
      const refusals = page.getByRole('region', { name: 'Latest refusals' });
      await stalledConnection(server.port, '');
      await stalledConnection(server.port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const slow = refusals.getByRole('listitem').filter({ hasText: 'request_head' });
      await expect(slow).toHaveText([/request_head: a request head that came too slowly/]);
      await page.waitForTimeout(1_500); // two pushes of the numbers: nothing more comes
      await expect(slow).toHaveCount(1);
    } finally {
      await server.stop();
    }
  },
);
