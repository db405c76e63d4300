import type { Page } from '@playwright/test';

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
