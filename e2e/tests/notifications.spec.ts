import AxeBuilder from '@axe-core/playwright';
import {
  type Browser,
  type BrowserContext,
  expect,
  type Page,
  test,
  type WebSocket,
} from '@playwright/test';

/**
 * A user in a browser of their own: with APP_TOKEN_SECRET unset (as the e2e server runs),
 * the session cookie's value is the user's name.
 */
async function user(browser: Browser, baseURL: string, name: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  await context.addCookies([{ name: 'session', value: name, url: baseURL }]);
  return context;
}

/** A name of this run's own: the server keeps channels' history between tests. */
const someone = (who: string) => `${who}-${Date.now().toString(36)}`;

/** Resolves once the page's realtime socket has had its sync for `channel`. */
function synced(page: Page, channel: string): Promise<void> {
  return new Promise((resolve) => {
    const watch = (socket: WebSocket) => {
      if (!socket.url().includes('/ws/realtime')) return;
      socket.on('framereceived', ({ payload }) => {
        const text = String(payload);
        if (text.includes('"type":"sync"') && text.includes(`"channel":"${channel}"`)) resolve();
      });
    };
    page.on('websocket', watch);
  });
}

const bell = (page: Page) => page.getByTestId('bell');
const bellCount = (page: Page) => page.getByTestId('bell-count');
const panelNotes = (page: Page) => page.getByTestId('bell-panel').getByTestId('note');

async function send(page: Page, to: string, text: string) {
  const form = page.getByTestId('send-notification');
  await form.getByLabel('To', { exact: true }).fill(to);
  await form.getByLabel('Text', { exact: true }).fill(text);
  await form.getByRole('button', { name: 'Send' }).click();
}

test('what another user sends while one is offline, or has no tab open, shows once on coming back', async ({
  browser,
  baseURL,
}) => {
  const aliceName = someone('alice');
  const bobName = someone('bob');
  const alice = await user(browser, baseURL ?? '', aliceName);
  const bob = await user(browser, baseURL ?? '', bobName);
  try {
    const alicePage = await alice.newPage();
    const following = synced(alicePage, `user:${aliceName}`);
    await alicePage.goto('/');
    await following;
    await expect(bell(alicePage)).toHaveAccessibleName('Notifications');

    // Alice's network goes away; Bob sends her a notification from the Notifications page.
    await alice.setOffline(true);
    const bobPage = await bob.newPage();
    await bobPage.goto('/notifications');
    await send(bobPage, aliceName, 'Lunch at noon?');
    await expect(bobPage.getByTestId('notify-sent')).toHaveText(`Sent to ${aliceName}.`);

    // Back online: the bell counts it, politely announced, and lists it once when opened.
    await alice.setOffline(false);
    await expect(bellCount(alicePage)).toHaveText('1');
    await expect(bell(alicePage)).toHaveAccessibleName('Notifications, 1 unread notification');
    await expect(alicePage.getByRole('status').filter({ hasText: 'unread' })).toHaveText(
      '1 unread notification',
    );
    await bell(alicePage).click();
    await expect(panelNotes(alicePage)).toHaveCount(1);
    await expect(panelNotes(alicePage).first()).toContainText(`From ${bobName}`);
    await expect(panelNotes(alicePage).first()).toContainText('Lunch at noon?');
    await expect(panelNotes(alicePage).first()).toContainText('new');
    await expect(bellCount(alicePage)).toHaveCount(0); // read
    await alicePage.keyboard.press('Escape');
    await expect(alicePage.getByTestId('bell-panel')).toBeHidden();
    await expect(bell(alicePage)).toBeFocused();

    // Alice closes her tab; Bob sends another; Alice opens the app again.
    await alicePage.close();
    await send(bobPage, aliceName, 'I booked a table');
    await expect(bobPage.getByTestId('notify-sent')).toHaveText(`Sent to ${aliceName}.`);
    const again = await alice.newPage();
    await again.goto('/items');
    await expect(bellCount(again)).toHaveText('1');
    await bell(again).click();
    // The new one, and the one read before (kept by this browser), each once.
    await expect(panelNotes(again)).toHaveCount(2);
    await expect(panelNotes(again).nth(0)).toContainText('I booked a table');
    await expect(panelNotes(again).nth(0)).toContainText('new');
    await expect(panelNotes(again).nth(1)).toContainText('Lunch at noon?');
    await expect(panelNotes(again).nth(1)).not.toContainText('new');

    // A reload shows nothing again as unread.
    await again.reload();
    await expect(bell(again)).toHaveAccessibleName('Notifications');
    await expect(bellCount(again)).toHaveCount(0);
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('the bell is read with the keyboard, and the pages with it are accessible', async ({
  browser,
  baseURL,
}) => {
  test.slow(); // four axe audits, which take long on a busy machine
  const name = someone('carol');
  const context = await user(browser, baseURL ?? '', name);
  try {
    const page = await context.newPage();
    await page.goto('/notifications');
    await send(page, name, 'A note to myself');
    await expect(page.getByTestId('notify-sent')).toHaveText(`Sent to ${name}.`);
    const inbox = page.getByRole('list', { name: 'Your notifications' });
    await expect(inbox.getByTestId('note')).toHaveCount(1);
    await expect(inbox).toContainText('A note to myself');

    await bell(page).focus();
    await page.keyboard.press('Enter');
    await expect(bell(page)).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('region', { name: 'Notifications' })).toBeVisible();
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [
        { width: 1280, height: 800 },
        { width: 375, height: 740 },
      ]) {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize(viewport);
        const results = await new AxeBuilder({ page }).analyze();
        const grave = results.violations.filter(
          (violation) => violation.impact === 'serious' || violation.impact === 'critical',
        );
        expect(grave.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
        // The panel stays on the screen, on a phone too.
        const box = await page.getByTestId('bell-panel').boundingBox();
        expect(box !== null && box.x >= 0 && box.x + box.width <= viewport.width).toBe(true);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport.width,
        );
      }
    }
    await page.getByRole('link', { name: 'All notifications, and send one' }).focus();
    await page.keyboard.press('Escape');
    await expect(bell(page)).toBeFocused();
    await expect(bell(page)).toHaveAttribute('aria-expanded', 'false');
  } finally {
    await context.close();
  }
});

test('a guest sees no bell, and the Notifications page says how to sign in', async ({ page }) => {
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto('/notifications');
  await expect(page.getByRole('heading', { name: 'Sign in to get notifications' })).toBeVisible();
  await expect(bell(page)).toHaveCount(0);
  expect(sockets).toEqual([]); // nothing followed, nothing opened
});

test('refusals to send are said in words', async ({ browser, baseURL }) => {
  const name = someone('dave');
  const context = await user(browser, baseURL ?? '', name);
  try {
    const page = await context.newPage();
    await page.goto('/notifications');
    // By id: when empty it is not shown, and not in the accessibility tree.
    const error = page.locator('#notify-error');

    await send(page, 'two words', 'hello');
    await expect(error).toHaveText(
      "Send it to a user's name: 1 to 64 letters, digits, or the characters . _ @ + -.",
    );
    await expect(page.getByLabel('To', { exact: true })).toBeFocused();
    await expect(page.getByLabel('To', { exact: true })).toHaveAttribute('aria-invalid', 'true');

    // Beyond a burst, as the same user: the server's 429, in words. Sent from the side all the
    // while, so that the bucket stays empty (it refills twice a second) when the page sends.
    let flooding = true;
    let refusedOnTheSide = 0;
    const flood = (async () => {
      for (let sent = 0; flooding; sent++) {
        const response = await context.request.post('/api/notifications', {
          data: { to: name, text: `flood ${sent}` },
        });
        if (response.status() === 429) refusedOnTheSide += 1;
      }
    })();
    await expect.poll(() => refusedOnTheSide).toBeGreaterThan(0);
    await send(page, name, 'one more');
    await expect(error).toHaveText(
      /^You have sent many notifications in a short time: try again in \d+ s\.$/,
    );
    flooding = false;
    await flood;

    // Signed out meanwhile (another tab, say): the server's 401, in words.
    await context.clearCookies();
    await page.waitForTimeout(1_100);
    await send(page, name, 'after signing out');
    await expect(error).toHaveText(
      'Only a signed-in user can send a notification: set a session cookie on the Items page, then send it again.',
    );
  } finally {
    await context.close();
  }
});
