import { expect, test } from '@playwright/test';
import { connectionStatus as status } from './support/conversation';

test('the server page shows connections and refusals as they happen', async ({
  page,
  context,
  baseURL,
}) => {
  await page.goto('/server');
  await expect(status(page)).toHaveText('Connected');
  const echoRow = page.getByTestId('endpoints').getByRole('row', { name: /^\/ws\s/ });
  await expect(echoRow).toBeVisible();
  const before = Number(await echoRow.getByRole('cell').first().textContent());

  const echo = await context.newPage();
  await echo.goto('/echo');
  await expect(status(echo)).toHaveText('Connected');
  await expect(echoRow.getByRole('cell').first()).toHaveText(String(before + 1));
  await expect(page.getByTestId('broker')).toContainText('connected');

  // A socket without credentials is refused: the refusal appears.
  const own = new URL(baseURL ?? '');
  await echo.evaluate(
    (url) =>
      new Promise((resolve) => {
        new WebSocket(url).onclose = resolve;
      }),
    `ws://${own.host}/items/1/ws`,
  );
  await expect(page.getByRole('region', { name: 'Latest refusals' })).toContainText('credentials');
  await echo.close();
  // And the echo page's departure, as a disconnect.
  await expect(page.getByRole('region', { name: 'Latest disconnects' })).toContainText('/ws');
});
