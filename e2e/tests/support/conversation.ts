import { type Browser, expect, type Page } from '@playwright/test';

/** What every page's Conversation shows, as a person finds it on screen. */
export const connectionStatus = (page: Page) => page.getByTestId('connection-status');

export const receivedTexts = (page: Page) =>
  page.getByRole('log').locator('[data-kind="received"] .log-text');

/** Types a message and presses Enter, as a person would. */
export async function sendMessage(page: Page, text: string) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** A chat member in a browser context of its own, as a person on another computer would be. */
export async function joinChat(browser: Browser, baseURL: string, clientId: number, room: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto(`/chat?room=${room}`);
  await page.getByLabel('Your number').fill(String(clientId));
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(connectionStatus(page)).toHaveText('Connected');
  return page;
}

/** Every error the page writes to the browser's console from here on (a failed request too). */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}
