// Browser e2e suite: @playwright/test drives Debian Chromium against the real
// tickwatch binary on its built-in simulator (see fixtures.mjs).
// Run: npm run test:e2e   (TICKWATCH_BIN=path skips `go build`; CHROMIUM_PATH overrides /usr/bin/chromium)

import { defineConfig } from '@playwright/test';

// Browser builds cannot be downloaded here: Playwright launches the system
// Chromium. The flags keep it from reaching the network on its own
// (updates, sync, QUIC probes) and from needing a GPU or a sandbox.
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  globalSetup: './global-setup.mjs',
  outputDir: './test-results',
  // One server per worker and a 2-core machine shared with other builds:
  // scenarios run one after the other, each in its own browser context.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // A failed test ends its worker, so the retry runs on a fresh server; a
  // test that passes only on retry is reported as flaky, not hidden.
  retries: 1,
  // Generous: the machine is shared, and a dashboard of 1,500 live rows is
  // real work for a software-rendered browser. Nothing here measures speed.
  timeout: 90_000,
  reporter: [['list'], ['html', { outputFolder: './report', open: 'never' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
    viewport: { width: 1600, height: 1000 },
    colorScheme: 'dark',
    // A trace (actions, DOM snapshots, network, console) of the retry of a
    // failed test. Not of every first attempt: snapshotting 1,500 rows that
    // change 10 times a second around every action slows a loaded machine
    // enough to cause the failures it would record. No screencast either;
    // every failure keeps its screenshot.
    trace: { mode: 'on-first-retry', screenshots: false, snapshots: true, sources: true },
    screenshot: 'only-on-failure',
  },
});
