import { expect, type Page, test as plain } from '@playwright/test';
import {
  receivedTexts as received,
  sendMessage as send,
  connectionStatus as status,
} from './support/conversation';
import { freePort, OwnServer, test } from './support/ownServer';

/** Every WebSocket URL the page opens, as the browser (and any proxy's log) sees it. */
function socketUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on('websocket', (socket) => urls.push(socket.url()));
  return urls;
}

const ticketOf = (url: string) => new URL(url).searchParams.get('ticket');

test.describe('sockets opened with single-use tickets', () => {
  // A server restarted while the pages wait: its start, and the backoff the pages are in by
  // then (up to 30 s), can pass the default 30 s on a busy machine.
  test.describe.configure({ timeout: 60_000 });
  const LONG_LIVED = 'long-lived-token-of-the-user';

  test('the Items page trades its token for a ticket, afresh after a restart', async ({
    ownServer: server,
    page,
  }) => {
    const urls = socketUrls(page);
    await page.goto(`${server.url}/items`);
    await page.getByLabel('Token', { exact: true }).fill(LONG_LIVED);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText('Connected');
    await send(page, 'with a ticket');
    await expect(received(page).first()).toHaveText(
      `Session cookie or query token value is: ${LONG_LIVED}`,
    );

    await server.stop();
    await server.start();
    await expect(status(page)).toHaveText('Connected', { timeout: 30_000 });
    await send(page, 'after the restart');
    await expect(received(page).last()).toHaveText(
      'Message text was: after the restart, for item ID: foo',
    );

    const itemSockets = urls.filter((url) => url.includes('/items/'));
    expect(itemSockets.length).toBeGreaterThanOrEqual(2);
    const tickets = itemSockets.map(ticketOf);
    expect(tickets.every((ticket) => ticket !== null && ticket.length > 20)).toBe(true);
    expect(new Set(tickets).size).toBe(tickets.length); // a fresh one for every attempt
    for (const url of urls) {
      expect(url).not.toContain(LONG_LIVED);
      expect(url).not.toContain('token=');
    }
    expect(server.output).not.toContain(LONG_LIVED);
    for (const ticket of tickets) expect(server.output).not.toContain(String(ticket));
  });

  test('the Chat page joins with a ticket for the session, afresh after a restart', async ({
    ownServer: server,
    page,
  }) => {
    const urls = socketUrls(page);
    await page.goto(`${server.url}/chat`);
    await page.request.post(`${server.url}/api/session`, { data: { value: 'chat-session' } });
    await page.getByLabel('Your number').fill('31');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect(status(page)).toHaveText('Connected');
    await expect(page.getByTestId('chat-identity')).toHaveText(
      'Joined with a single-use ticket for your session.',
    );

    await server.stop();
    await server.start();
    await expect(status(page)).toHaveText('Connected', { timeout: 30_000 });
    // The page's one connection (WS /ws/realtime), the room followed over it.
    const tickets = urls.filter((url) => url.includes('/ws/realtime')).map(ticketOf);
    expect(tickets.length).toBeGreaterThanOrEqual(2);
    expect(tickets.every((ticket) => ticket !== null)).toBe(true);
    expect(new Set(tickets).size).toBe(tickets.length);
    for (const url of urls) expect(url).not.toContain('chat-session');
  });

  test('without a session the Chat page joins as a guest, as the guide allows', async ({
    ownServer: server,
    page,
  }) => {
    const urls = socketUrls(page);
    await page.goto(`${server.url}/chat`);
    await page.getByRole('button', { name: 'Join' }).click();
    await expect(status(page)).toHaveText('Connected');
    await expect(page.getByTestId('chat-identity')).toContainText('Joined as a guest');
    expect(urls.every((url) => ticketOf(url) === null)).toBe(true);
  });
});

plain(
  'a refused ticket is traded for a fresh one, a few times, then the refusal is said',
  async ({ page }) => {
    // Every ticket this server issues has expired by the time its socket presents it.
    const server = new OwnServer(await freePort(), { APP_TICKET_TTL: '0.000001' });
    await server.start();
    try {
      const urls = socketUrls(page);
      await page.goto(`${server.url}/items`);
      await page.getByLabel('Token', { exact: true }).fill('a-user-token');
      await page.getByRole('button', { name: 'Connect' }).click();
      await expect(status(page)).toHaveText(
        /^Refused by the server: ticket expired: ask for a new one/,
        {
          timeout: 20_000,
        },
      );
      const tickets = urls.filter((url) => url.includes('/items/')).map(ticketOf);
      expect(tickets.length).toBeGreaterThanOrEqual(2); // asked afresh after the refusal
      expect(tickets.length).toBeLessThanOrEqual(4); // and gave up after a few, saying why
      expect(new Set(tickets).size).toBe(tickets.length);
    } finally {
      await server.stop();
    }
  },
);
