import { expect, test } from '@playwright/test';
import { sendMessage as say, connectionStatus as status } from './support/conversation';

test('one tab that shows the chat and the bell uses one WebSocket for both', async ({
  browser,
  baseURL,
}) => {
  const name = `erin-${Date.now().toString(36)}`;
  const context = await browser.newContext({ baseURL });
  await context.addCookies([{ name: 'session', value: name, url: baseURL ?? '' }]);
  try {
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(new URL(socket.url()).pathname));

    await page.goto(`/chat?room=one-${Date.now()}`);
    await expect(page.getByTestId('bell')).toBeVisible(); // signed in: the bell follows user:…
    await page.getByLabel('Your number').fill('21');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect(status(page)).toHaveText('Connected');
    await expect(page.getByTestId('online').locator('li')).toHaveText(['#21 (you)']);
    await say(page, 'over the one connection');
    await expect(page.getByRole('log').locator('[data-delivery="answered"]')).toHaveCount(1);

    // A notification comes in while the person chats: over the same socket.
    const sent = await context.request.post('/api/notifications', {
      data: { to: name, text: 'Meeting moved to 3' },
    });
    expect(sent.status()).toBe(201);
    await expect(page.getByTestId('bell-count')).toHaveText('1');
    await say(page, 'still one');
    await expect(page.getByRole('log').locator('[data-delivery="answered"]')).toHaveCount(2);

    // Leaving the room keeps the bell's connection; going to another page keeps it too.
    await page.getByRole('button', { name: 'Leave' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Home' }).click();
    await page.getByTestId('bell').click();
    await expect(page.getByTestId('bell-panel')).toContainText('Meeting moved to 3');
    expect(sockets).toEqual(['/ws/realtime']);
  } finally {
    await context.close();
  }
});
