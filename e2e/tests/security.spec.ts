import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import {
  receivedTexts as received,
  sendMessage,
  connectionStatus as status,
} from './support/conversation';
import { METRICS_TOKEN } from './support/operator';
import { freePort, OwnServer } from './support/ownServer';

test('the app runs under its Content-Security-Policy, which blocks injected script', async ({
  page,
}) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto('/echo');
  expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
  expect(response?.headers()['x-frame-options']).toBe('DENY');
  await expect(status(page)).toHaveText('Connected'); // 'self' covers the page's own ws:
  await sendMessage(page, 'under CSP');
  await expect(received(page).last()).toHaveText('Message text was: under CSP');
  expect(violations).toEqual([]); // the app itself needs nothing the policy forbids
  // Injected markup cannot run script: an inline handler is blocked by the policy itself.
  await page.evaluate(() => {
    const image = document.createElement('img');
    image.setAttribute('onerror', 'window.__inline = 1');
    image.src = 'data:,not-an-image';
    document.body.append(image);
  });
  await expect.poll(() => violations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => '__inline' in window)).toBe(false);
});

/** The server's count of handshakes refused for their origin, from its /metrics. */
async function originRefusals(baseURL: string): Promise<number> {
  const authorization = `Bearer ${METRICS_TOKEN}`;
  const metrics = await (await fetch(`${baseURL}/metrics`, { headers: { authorization } })).text();
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('realtime_handshake_refusals_total{reason="origin"}'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

test("a page on another site cannot open the app's sockets", async ({ page, baseURL }) => {
  const own = new URL(baseURL ?? '');
  // A hostile page on an origin of its own: a real server on another port, since a page that
  // Playwright fulfils itself opens no real sockets, and a public one is blocked by Chromium
  // before the server could show what it does.
  const evil = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>evil</title>');
  }).listen(0, '127.0.0.1');
  await once(evil, 'listening');
  const { port } = evil.address() as AddressInfo;
  try {
    await page.goto(`http://127.0.0.1:${port}/`);
    const tryToOpen = (target: string) =>
      page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(url);
            socket.onopen = () => {
              resolve('open');
              socket.close();
            };
            socket.onclose = (event) => resolve(`closed ${event.code}`);
          }),
        target,
      );
    const before = await originRefusals(baseURL ?? '');
    // Refused with HTTP 403 before the handshake, which a browser reports as 1006.
    expect(await tryToOpen(`ws://127.0.0.1:${own.port}/ws`)).toBe('closed 1006');
    expect(await tryToOpen(`ws://127.0.0.1:${own.port}/items/1/ws?token=t`)).toBe('closed 1006');
    // By the server, for their origin (a count flushed once a second).
    await expect.poll(() => originRefusals(baseURL ?? ''), { timeout: 5_000 }).toBe(before + 2);
    // The same socket from the app's own page opens.
    await page.goto('/');
    expect(await tryToOpen(`ws://127.0.0.1:${own.port}/ws`)).toBe('open');
  } finally {
    evil.close();
  }
});

test('a file over the message limit is refused on the page, with the reason', async ({ page }) => {
  await page.goto('/echo');
  await expect(status(page)).toHaveText('Connected');
  await page.getByText('Binary messages').click();
  await page.getByLabel('Or a file').setInputFiles({
    name: 'big.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(70_000),
  });
  await expect(page.getByRole('alert').last()).toHaveText(
    'That is 70,000 bytes: the server takes messages of up to 65,536 bytes.',
  );
  await expect(status(page)).toHaveText('Connected');
});

test.describe('with signed tokens on', () => {
  let server: OwnServer;

  test.beforeAll(async () => {
    server = new OwnServer(await freePort(), {
      APP_TOKEN_SECRET: 'e2e-secret-that-is-long-enough-for-hs256',
      APP_DEV_TOKEN_MINTING: 'true', // POST /api/tokens, the stand-in for a login
    });
    await server.start();
  });
  test.afterAll(async () => server.stop());

  test('the Items page obtains a token, and a forged one is refused with the reason', async ({
    page,
  }) => {
    await page.goto(`${server.url}/items`);
    await page.getByRole('button', { name: 'Get a signed token' }).click();
    await expect(page.getByText(/A token signed for visitor, valid until/)).toBeVisible();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    expect(token).toMatch(/^eyJ/); // a JWT

    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText('Connected');
    await sendMessage(page, 'signed');
    await expect(received(page).first()).toHaveText(
      'Session cookie or query token value is: visitor',
    );
    await page.getByRole('button', { name: 'Disconnect' }).click();

    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    await page.getByLabel('Token', { exact: true }).fill(forged);
    await page.getByRole('button', { name: 'Connect' }).click();
    // Refused by the ticket request: no socket was opened, and the line says so.
    await expect(status(page)).toHaveText(
      'Refused before connecting: no ticket: token signature is not valid',
    );
    await page.getByLabel('Token', { exact: true }).fill('some-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(status(page)).toHaveText(
      'Refused before connecting: no ticket: not a token issued by this server',
    );
  });
});

test('where tokens are signed but not handed out without a login, the page says why not', async ({
  page,
}) => {
  const server = new OwnServer(await freePort(), {
    APP_TOKEN_SECRET: 'e2e-secret-that-is-long-enough-for-hs256',
  });
  await server.start();
  try {
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await page.goto(`${server.url}/items`);
    await expect(
      page.getByText(/hands them out after a login \(APP_DEV_TOKEN_MINTING is off\)/),
    ).toBeVisible();
    await expect(page.getByRole('button', { name: 'Get a signed token' })).toHaveCount(0);
    expect(asked).not.toContain('/api/tokens');
  } finally {
    await server.stop();
  }
});

test('without signed tokens the page offers none, and says any token will do', async ({ page }) => {
  const asked: string[] = [];
  page.on('request', (request) => asked.push(new URL(request.url()).pathname));
  await page.goto('/items');
  await expect(page.getByText(/This server takes any token that is not empty/)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Get a signed token' })).toHaveCount(0);
  expect(asked).not.toContain('/api/tokens');
});
