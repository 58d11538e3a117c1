// Fixtures shared by the specs: the real binary (one per worker, so a retry
// after a failure gets a fresh one), a check that no page of the test hit a
// CSP violation or an uncaught error, a check of the server's log lines
// written during the test, and the server log on failure.

import { test as base, expect } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { logProblems } from './logcheck.mjs';
import { startServer } from './server.mjs';

export { expect };

/** Named screenshots (the README's come from here); git-ignored. */
export const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));

export const DESKTOP = { width: 1600, height: 1000 };
export const NARROW = { width: 420, height: 1000 };
export const col = (id) => `section[data-connection="connection_${id}"]`;

/**
 * Reports CSP violations (seen in the page, sent out over a binding, which CSP
 * does not govern), CSP console lines and uncaught page errors into problems.
 */
async function instrument(context, problems) {
  await context.exposeBinding('__twReport', (_source, text) => problems.push(`csp: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__twReport(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const attach = (page) => {
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && /Content Security Policy|Refused to/i.test(m.text())) {
        problems.push(`console ${m.type()}: ${m.text()} (${page.url()})`);
      }
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${String(e?.message || e)} (${page.url()})`));
  };
  context.on('page', attach);
  for (const p of context.pages()) attach(p);
}

export const test = base.extend({
  server: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const server = await startServer();
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  baseURL: async ({ server }, use) => use(server.base),

  // Torn down after every context of the test is closed, so it sees all of them.
  pageProblems: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use, testInfo) => {
      const problems = [];
      await use(problems);
      if (testInfo.status === testInfo.expectedStatus) expect(problems, 'CSP violations / page errors').toEqual([]);
    },
    { auto: true },
  ],

  serverLog: [
    async ({ server }, use, testInfo) => {
      const mark = server.logMark();
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('server-log-tail', { body: server.logTail(), contentType: 'text/plain' });
        return;
      }
      expect(logProblems(server.logSince(mark)), 'server log lines written during the test').toEqual([]);
    },
    { auto: true },
  ],

  context: async ({ context, pageProblems }, use) => {
    await instrument(context, pageProblems);
    await use(context);
  },

  /** Extra contexts (another viewport, colour scheme or user), instrumented and closed after the test. */
  newContext: async ({ browser, pageProblems }, use) => {
    const made = [];
    await use(async (options = {}) => {
      const c = await browser.newContext({ viewport: DESKTOP, colorScheme: 'dark', ...options });
      made.push(c);
      await instrument(c, pageProblems);
      return c;
    });
    for (const c of made) await c.close();
  },
});

/** Logs in as role through the login page that `next` redirects to. */
export async function login(page, server, role, next = '/admin/websockets') {
  const u = server.users[role];
  await page.goto(server.base + next);
  await page.waitForURL(/\/login\?next=/, { timeout: 10_000 });
  await page.fill('input[name="username"]', u.username);
  await page.fill('input[name="password"]', u.password);
  await page.click('button[type="submit"]');
}

/** Logs in as admin and waits for the dashboard with column 1's tickers. */
export async function adminDashboard(page, server) {
  await login(page, server, 'admin');
  await page.waitForURL(server.base + '/admin/websockets');
  await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
}

/** The status document, fetched with the page's session cookie. */
export async function apiStatus(page) {
  const r = await page.request.get('/api/admin/websocket-status', { headers: { Accept: 'application/json' } });
  expect(r.status(), 'websocket-status').toBe(200);
  return r.json();
}
