/// <reference types="vitest/config" />
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

// In development the SPA is used from Vite's port exactly as in production from uvicorn's:
// the same relative URLs, which Vite forwards to uvicorn. No CORS, no second origin.
const backend = `http://127.0.0.1:${process.env.APP_PORT ?? '8000'}`;

/** A route template as a proxy key: "/items/{item_id}/ws" matches /items/42/ws and its query. */
function routePattern(template: string): string {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/?]+');
  return `^${escaped}(\\?|$)`;
}

/** What the backend serves, asked of the app itself (`python -m app routes`): a WebSocket route
 * or a feature added there is forwarded here without an edit. */
function backendRoutes(): { websocket: string[]; http: string[] } {
  const root = path.resolve(import.meta.dirname, '..');
  const python = process.env.APP_PYTHON ?? path.join(root, '.venv', 'bin', 'python');
  const output = execFileSync(python, ['-m', 'app', 'routes'], {
    cwd: path.join(root, 'backend'),
    env: { ...process.env, APP_LOG_LEVEL: 'error' },
    encoding: 'utf8',
  });
  return JSON.parse(output) as { websocket: string[]; http: string[] };
}

function proxy(): Record<string, ProxyOptions> {
  const routes = backendRoutes();
  const entries: Record<string, ProxyOptions> = {};
  // ws: the live server page's socket is under /api too.
  for (const prefix of routes.http) entries[prefix] = { target: backend, ws: true };
  // Keys starting with ^ are regular expressions, tested against the path and query. Only the
  // WebSocket paths: /items on its own is a page of the SPA.
  for (const template of routes.websocket) {
    if (!routes.http.some((prefix) => template.startsWith(`${prefix}/`))) {
      entries[routePattern(template)] = { target: backend, ws: true };
    }
  }
  return entries;
}

export default defineConfig(({ command }) => ({
  plugins: [react()],
  // The manifest tells scripts/bundle-budget.mjs which chunks a first visit loads.
  build: { manifest: true },
  server: {
    port: Number(process.env.VITE_PORT ?? '5173'),
    strictPort: true,
    // Only the dev server forwards anything (not a build, not Vitest).
    proxy: command === 'serve' && !process.env.VITEST ? proxy() : undefined,
  },
  test: {
    environment: 'jsdom',
    restoreMocks: true,
    setupFiles: ['src/test/setup.ts'],
  },
}));
