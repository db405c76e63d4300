import { expect, type Page } from '@playwright/test';
import { connectionStatus } from './conversation';

/** The operator token of the servers the tests start (APP_METRICS_TOKEN). */
export const METRICS_TOKEN = 'e2e-operator-token-not-a-secret';

/** The Server page, connected as an operator: with the token if the server asks for one. */
export async function openServerPage(page: Page, url = '/server') {
  await page.goto(url);
  const status = connectionStatus(page);
  // A refusal is a close just after the socket opened (so that its reason can be read): a
  // moment's "Connected" says nothing yet. Looking in means the first numbers have come.
  const refused = status.filter({ hasText: /^Refused/ });
  await expect(refused.or(page.getByTestId('endpoints')).first()).toBeVisible();
  if (await refused.isVisible()) {
    await page.getByLabel('Operator token').fill(METRICS_TOKEN);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
  }
  await expect(page.getByTestId('endpoints')).toBeVisible();
  await expect(status).toHaveText('Connected');
}
