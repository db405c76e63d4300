/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the SPA is used from Vite's port exactly as in production from uvicorn's:
// the same relative URLs, which Vite forwards to uvicorn. No CORS, no second origin.
const backend = `http://127.0.0.1:${process.env.APP_PORT ?? '8000'}`;

export default defineConfig({
  plugins: [react()],
  // The manifest tells scripts/bundle-budget.mjs which chunks a first visit loads.
  build: { manifest: true },
  server: {
    port: Number(process.env.VITE_PORT ?? '5173'),
    strictPort: true,
    proxy: {
      // ws: the live server page's socket is under /api too.
      '/api': { target: backend, ws: true },
      // Keys starting with ^ are regular expressions, tested against the path and query.
      // Only the WebSocket paths: /items on its own is a page of the SPA.
      '^/ws(/|\\?|$)': { target: backend, ws: true },
      '^/items/[^/?]+/ws(\\?|$)': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    restoreMocks: true,
    setupFiles: ['src/test/setup.ts'],
  },
});
