import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { connectionStatus } from './support/conversation';
import { openServerPage } from './support/operator';

const PAGES = ['/', '/echo', '/items', '/chat', '/server', '/notifications', '/no-such-page'];
const SCHEMES = ['light', 'dark'] as const;
const WIDTHS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
  'small phone': { width: 375, height: 740 },
};

for (const path of PAGES) {
  for (const colorScheme of SCHEMES) {
    for (const [device, viewport] of Object.entries(WIDTHS)) {
      test(`${path} has no serious accessibility problem (${colorScheme}, ${device})`, async ({
        page,
      }) => {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize(viewport);
        // The Server page connected, with its table and panels.
        if (path === '/server') await openServerPage(page);
        else await page.goto(path);
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
        if (path === '/echo') {
          // With messages in the log, which is where problems were found.
          await expect(connectionStatus(page)).toHaveText('Connected');
          const box = page.getByLabel('Message', { exact: true });
          await box.fill('hello');
          await box.press('Enter');
          await expect(page.getByRole('log')).toContainText('Message text was: hello');
        }
        const results = await new AxeBuilder({ page }).analyze();
        const grave = results.violations.filter(
          (violation) => violation.impact === 'serious' || violation.impact === 'critical',
        );
        expect(
          grave.map(
            (violation) => `${violation.id}: ${violation.help} (${violation.nodes.length})`,
          ),
        ).toEqual([]);
      });
    }
  }
}
