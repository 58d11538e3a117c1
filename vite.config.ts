import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Vite only ever runs under Node; declared here so the config type-checks
// without pulling @types/node into the browser build's type space.
declare const process: { env: Record<string, string | undefined> };

// `go tool task dev` sets both from PORT and VITE_PORT; the backend's
// ALLOWED_ORIGINS there names the same vite port.
const api = process.env.TICKWATCH_API || 'http://127.0.0.1:8080';
const vitePort = Number(process.env.VITE_PORT) || 5173;
const proxied = { target: api, changeOrigin: false };

export default defineConfig({
  root: 'frontend',
  base: '/',
  publicDir: 'public',
  // Paths in plugin options are relative to the Vite root (frontend/).
  plugins: [svelte({ configFile: '../svelte.config.js' })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Every supported browser has modulepreload; the polyfill would be dead weight.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    port: vitePort,
    // Another vite on the port must be an error, not a silent move to a
    // port the backend's ALLOWED_ORIGINS does not list.
    strictPort: true,
    proxy: {
      '/api': proxied,
      '/admin-ws': { ...proxied, ws: true },
      '/healthz': proxied,
      '/metrics': proxied,
    },
  },
  preview: {
    proxy: {
      '/api': proxied,
      '/admin-ws': { ...proxied, ws: true },
      '/healthz': proxied,
      '/metrics': proxied,
    },
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    restoreMocks: true,
  },
});
