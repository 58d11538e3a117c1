// Accessibility: axe-core (from the npm registry, evaluated in the page) on
// every view, in the dark and the light theme. The themes follow
// prefers-color-scheme (app.css), so each theme is a context with that colour
// scheme emulated. A serious or critical violation fails the test; the counts
// per rule are attached to the report so a failure says what to fix.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { adminDashboard, col, expect, login, test } from './fixtures.mjs';

// The page's CSP (script-src 'self') rightly refuses an injected <script>
// (page.addScriptTag), and bypassCSP would test a page users never get; the
// source is evaluated over the DevTools protocol instead, which CSP does not govern.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

/** Runs axe-core in the page; returns the serious and critical violations. */
async function seriousViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // @ts-ignore axe is the global the script tag defines
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      // colour pairs and ratios (what a token change must fix), else the first nodes
      examples: [
        ...new Set(
          v.nodes.map((n) => {
            const d = n.any[0]?.data;
            return d?.fgColor ? `${n.target.join(' ')}: ${d.fgColor} on ${d.bgColor} = ${d.contrastRatio}:1 (${d.fontSize})` : n.target.join(' ');
          }),
        ),
      ].slice(0, 12),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Where each view is, and how to know it has rendered its content. */
const views = [
  {
    name: 'login',
    open: async (page) => {
      await page.goto('/login');
      await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    },
  },
  {
    name: 'dashboard',
    open: async (page, server) => {
      await adminDashboard(page, server);
      // the recent-ticks lists are scroll boxes too: wait until they have content
      await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
    },
  },
  {
    // a confirmation in front of the dashboard: the solid danger button
    name: 'dashboard-confirm',
    open: async (page, server) => {
      await adminDashboard(page, server);
      await page.locator(col(3)).getByRole('button', { name: 'Disable', exact: true }).click();
      await page.waitForSelector('dialog[open] :text("Disable tertiary?")');
    },
  },
  {
    name: 'sessions',
    open: async (page, server) => {
      await login(page, server, 'admin', '/admin/sessions');
      await page.waitForSelector('main table tbody tr');
    },
  },
  {
    name: 'audit',
    open: async (page, server) => {
      await login(page, server, 'admin', '/admin/audit');
      await page.waitForSelector('table.log[aria-busy="false"]');
    },
  },
  {
    name: 'tokens',
    open: async (page, server) => {
      await login(page, server, 'admin', '/admin/tokens');
      await expect(page.getByRole('heading', { name: 'New token' })).toBeVisible();
      await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    },
  },
  {
    name: 'consumers',
    open: async (page, server) => {
      await login(page, server, 'admin', '/admin/consumers');
      await expect(page.getByRole('heading', { name: 'Connected consumers' })).toBeVisible();
      await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    },
  },
  {
    name: 'not-allowed',
    open: async (page, server) => {
      await login(page, server, 'user');
      await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
    },
  },
  {
    name: 'not-found',
    open: async (page) => {
      await page.goto('/no/such/page');
      await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    },
  },
];

for (const theme of ['dark', 'light']) {
  for (const view of views) {
    test(`axe: ${view.name} (${theme}) has no serious or critical violation`, async ({ newContext, server }, testInfo) => {
      const context = await newContext({ colorScheme: theme, baseURL: server.base });
      const page = await context.newPage();
      await view.open(page, server);
      const found = await seriousViolations(page);
      const summary = found.map((v) => `${v.id} (${v.impact}): ${v.nodes} nodes\n  ${v.examples.join('\n  ')}`).join('\n');
      await testInfo.attach(`axe-${view.name}-${theme}`, { body: summary || 'none', contentType: 'text/plain' });
      console.log(`axe ${view.name} ${theme}: ${found.reduce((n, v) => n + v.nodes, 0)} serious/critical nodes ${found.map((v) => `${v.id}=${v.nodes}`).join(' ')}`);
      expect(found, `axe serious/critical violations on ${view.name} (${theme}):\n${summary}`).toEqual([]);
    });
  }
}
