import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { METRICS_TOKEN } from './tests/support/operator';

const root = path.resolve(import.meta.dirname, '..');
// scripts/test.sh picks free ports; these are only the defaults of a bare `npx playwright test`.
const port = Number(process.env.E2E_PORT ?? '8765');
const devApiPort = Number(process.env.E2E_DEV_API_PORT ?? '8766');
const devVitePort = Number(process.env.E2E_DEV_VITE_PORT ?? '5199');

// Playwright cannot download its browsers on every machine: Debian's chromium is used instead.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  throw new Error(
    `No Chromium at ${chromium}: install Debian's package 'chromium' or set CHROMIUM_PATH.`,
  );
}

export default defineConfig({
  testDir: './tests',
  forbidOnly: Boolean(process.env.CI),
  workers: 2,
  reporter: process.env.CI ? 'list' : [['list'], ['html', { open: 'never' }]],
  use: {
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        // Chromium's sandbox cannot run as root.
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        // No calls home: the test machine may have no network beyond loopback.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    {
      name: 'production',
      testIgnore: /dev-server/,
      use: { baseURL: `http://127.0.0.1:${port}` },
    },
    {
      name: 'dev-server',
      testMatch: /dev-server/,
      use: { baseURL: `http://127.0.0.1:${devVitePort}` },
    },
  ],
  webServer: [
    {
      // What `scripts/start.sh` serves: uvicorn alone, with the build of `npm run build`.
      command: `${path.join(root, '.venv/bin/python')} -m app`,
      cwd: root,
      // As in production, no operator without the operator token: the tests that read the
      // Server page or /metrics send it.
      env: { APP_PORT: String(port), APP_METRICS_TOKEN: METRICS_TOKEN },
      url: `http://127.0.0.1:${port}/api/health`,
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      // What `npm run dev` runs: Vite with its proxy, beside uvicorn --reload.
      command: 'scripts/dev.sh',
      cwd: root,
      env: { APP_PORT: String(devApiPort), VITE_PORT: String(devVitePort) },
      url: `http://127.0.0.1:${devVitePort}/`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
