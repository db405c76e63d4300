import { expect, type Page, test } from '@playwright/test';
import { connectionStatus, joinChat, sendMessage } from './support/conversation';
import { openServerPage } from './support/operator';

/** A desktop, two phones, and the narrowest phones still sold. */
const SCREENS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
  { width: 375, height: 740 },
  { width: 320, height: 640 },
];
const SCHEMES = ['light', 'dark'] as const;

/**
 * What does not fit the screen, in words: the page wider than the window (it would scroll
 * sideways, or a phone would zoom it out), a link of the navigation outside the window, a
 * placeholder longer than its box. Empty when everything fits.
 */
function misfits(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const width = window.innerWidth;
    const page = document.documentElement;
    if (page.scrollWidth > width) found.push(`the page is ${page.scrollWidth} px wide`);
    const header = document.querySelector('.site-header')?.getBoundingClientRect();
    if (header === undefined || header.width < width) found.push('the header stops short');
    for (const link of document.querySelectorAll('nav a')) {
      const box = link.getBoundingClientRect();
      if (box.left < 0 || box.right > width) found.push(`"${link.textContent}" is off the screen`);
    }
    const measure = document.createElement('canvas').getContext('2d');
    for (const input of document.querySelectorAll<HTMLInputElement>('input[placeholder]')) {
      if (measure === null || input.offsetParent === null || input.placeholder === '') continue;
      const style = getComputedStyle(input);
      measure.font = style.font;
      const room =
        input.clientWidth -
        Number.parseFloat(style.paddingLeft) -
        Number.parseFloat(style.paddingRight);
      const needed = measure.measureText(input.placeholder).width;
      if (needed > room)
        found.push(`"${input.placeholder}" is cut (${Math.ceil(needed)} > ${room} px)`);
    }
    return found;
  });
}

/** The page as it is now, at every screen size and in both colour schemes. */
async function fitsEveryScreen(page: Page) {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    for (const screen of SCREENS) {
      await page.setViewportSize(screen);
      const where = `${screen.width}×${screen.height}, ${colorScheme}`;
      expect(await misfits(page), where).toEqual([]);
    }
  }
}

for (const path of ['/', '/items', '/notifications', '/no-such-page']) {
  test(`${path} fits every screen`, async ({ page }) => {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await fitsEveryScreen(page);
  });
}

for (const path of ['/', '/notifications']) {
  test(`${path} fits every screen signed in, with the bell in the header`, async ({
    page,
    context,
    baseURL,
  }) => {
    await context.addCookies([{ name: 'session', value: 'alice', url: baseURL ?? '' }]);
    await page.goto(path);
    await expect(page.getByRole('button', { name: /^Notifications/ })).toBeVisible();
    await fitsEveryScreen(page);
  });
}

test('the Echo page fits every screen, with messages in its log', async ({ page }) => {
  await page.goto('/echo');
  await expect(connectionStatus(page)).toHaveText('Connected');
  await sendMessage(page, 'a message long enough to need the whole width of a phone, and more');
  await page.getByText('Binary messages').click();
  await fitsEveryScreen(page);
});

test('the Chat page fits every screen, in a room', async ({ browser, baseURL }) => {
  const page = await joinChat(browser, baseURL ?? '', 7, `layout-${Date.now()}`);
  await expect(page.getByTestId('online')).toBeVisible();
  await fitsEveryScreen(page);
});

test('the Server page fits every screen, its table scrolling inside its card', async ({ page }) => {
  await openServerPage(page);
  await expect(page.getByTestId('endpoints')).toBeVisible();
  await fitsEveryScreen(page);
  // Where the table is wider than its card, the reader can still reach all of it by keyboard.
  await page.setViewportSize({ width: 320, height: 640 });
  const scroller = page.getByRole('region', { name: 'Connections by endpoint' });
  await scroller.focus();
  await expect(scroller).toBeFocused();
});

test('"Get a signed token" sits with the Token field it fills, at every width', async ({
  page,
}) => {
  // As a server that hands signed tokens out tells it (only then is the button offered).
  await page.route('/api/config', async (route) => {
    const config = await (await route.fetch()).json();
    await route.fulfill({ json: { ...config, signed_tokens: true, token_minting: true } });
  });
  await page.goto('/items');
  const input = page.getByLabel('Token', { exact: true });
  const button = page.getByRole('button', { name: 'Get a signed token' });
  for (const screen of SCREENS) {
    await page.setViewportSize(screen);
    const field = await input.boundingBox();
    const action = await button.boundingBox();
    if (field === null || action === null)
      throw new Error('the Token field or its button is not shown');
    const where = `${screen.width}×${screen.height}`;
    // Right under the field, from its left edge: not in another column, not centred.
    expect(Math.abs(action.x - field.x), where).toBeLessThanOrEqual(1);
    expect(action.y - (field.y + field.height), where).toBeGreaterThanOrEqual(0);
    expect(action.y - (field.y + field.height), where).toBeLessThan(16);
    expect(action.width, where).toBeLessThan(field.width);
  }
});
