import { expect, type Page } from '@playwright/test';
import { connectionStatus } from './conversation';

/** The operator token of the servers the tests start (APP_METRICS_TOKEN). */
export const METRICS_TOKEN = 'e2e-operator-token-not-a-secret';

/** The Server page, connected as an operator: with the token if the server asks for one. */
export async function openServerPage(page: Page, url = '/server') {
  await page.goto(url);
  const status = connectionStatus(page);
  await expect(status).toHaveText(/^(Connected|Refused)/);
  if ((await status.textContent())?.startsWith('Refused')) {
    await page.getByLabel('Operator token').fill(METRICS_TOKEN);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
  }
  await expect(status).toHaveText('Connected');
}
