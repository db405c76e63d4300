import { expect, test } from '@playwright/test';
import { connectionStatus, receivedTexts, sendMessage } from './support/conversation';

const FLOOD = 3000; // three seconds at a thousand messages a second

test('a page receiving 1,000 messages a second keeps up, with a bounded log', async ({ page }) => {
  // The flood's own 3 s, and its 3,000 routed frames, take far longer on a busy machine.
  test.setTimeout(60_000);
  let flood: (() => Promise<void>) | undefined;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => ws.send(message));
    // Messages the server could have sent, 10 every 10 ms, in realtime.json.v1.
    flood = async () => {
      for (let n = 0; n < FLOOD; n += 10) {
        for (let k = n; k < n + 10; k++) {
          ws.send(JSON.stringify({ type: 'text', text: `flood ${k}`, reply_to: null }));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
  });
  await page.goto('/echo');
  await expect(connectionStatus(page)).toHaveText('Connected');
  await flood?.();

  // Every message arrived, in order: the newest 500 are shown, the rest counted.
  const shown = page.getByRole('log').locator('.log-entry');
  await expect(receivedTexts(page).last()).toHaveText(`flood ${FLOOD - 1}`);
  await expect(shown).toHaveCount(500);
  await expect(shown.first()).toContainText(`flood ${FLOOD - 500}`);
  const note = await page.getByText(/older messages are no longer shown/).textContent();
  const dropped = Number(note?.match(/^(\d+)/)?.[1]);
  expect(dropped).toBeGreaterThanOrEqual(FLOOD - 500);

  // And the page still answers a person at once.
  await sendMessage(page, 'still here');
  await expect(receivedTexts(page).last()).toHaveText('Message text was: still here');
});
