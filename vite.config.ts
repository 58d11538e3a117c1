import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Vite only ever runs under Node; declared here so the config type-checks
// without pulling @types/node into the browser build's type space.
declare const process: { env: Record<string, string | undefined> };

const api = process.env.TICKWATCH_API || 'http://127.0.0.1:8080';
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
