import { expect, test } from '@playwright/test';

test('echo answers several messages on one connection', async ({ page }) => {
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto('/echo');
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');

  const box = page.getByLabel('Message', { exact: true });
  for (const text of ['Hello', 'second message', 'third <b>one</b>']) {
    await box.fill(text);
    await box.press('Enter');
    await expect(box).toHaveValue('');
  }

  const log = page.getByRole('log');
  await expect(log.locator('[data-kind="received"] .log-text')).toHaveText([
    'Message text was: Hello',
    'Message text was: second message',
    'Message text was: third <b>one</b>',
  ]);
  await expect(log.locator('[data-kind="sent"] .log-text')).toHaveText([
    'Hello',
    'second message',
    'third <b>one</b>',
  ]);
  // One socket for the whole conversation, on the page's own origin.
  const origin = new URL(page.url());
  expect(sockets).toEqual([`ws://${origin.host}/ws`]);
});

test('Send is disabled while disconnected, and Connect opens a new socket', async ({ page }) => {
  await page.goto('/echo');
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveText('Connected');

  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(status).toHaveText('Disconnected');
  await page.getByLabel('Message', { exact: true }).fill('not sent');
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();

  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(status).toHaveText('Connected');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('log').locator('[data-kind="received"] .log-text')).toHaveText([
    'Message text was: not sent',
  ]);
});

test('works from the keyboard alone', async ({ page }) => {
  await page.goto('/echo');
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  const box = page.getByLabel('Message', { exact: true });
  // Tab through the page until the message box has focus, as a keyboard user would.
  for (let presses = 0; presses < 15; presses++) {
    if (await box.evaluate((element) => element === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(box).toBeFocused();
  await page.keyboard.type('typed');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('log')).toContainText('Message text was: typed');
});

test('bytes are answered like text, and a bytes error goes once a message is sent', async ({
  page,
}) => {
  await page.goto('/echo');
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByText('Binary messages').click();
  await page.getByLabel('Bytes in hex').fill('01 02 03');
  await page.getByRole('button', { name: 'Send bytes' }).click();
  const sentBytes = page.getByRole('log').locator('[data-kind="sent"]', { hasText: '3 bytes' });
  await expect(sentBytes).toHaveAttribute('data-delivery', 'answered');

  const bytesError = page.locator('.bytes-form [role="alert"]');
  await page.getByLabel(/^Or a file/).setInputFiles({
    name: 'big.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(70_000),
  });
  await expect(bytesError).toContainText('70,000 bytes');
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('after the error');
  await box.press('Enter');
  await expect(page.getByRole('log')).toContainText('Message text was: after the error');
  await expect(bytesError).toHaveText('');
});
