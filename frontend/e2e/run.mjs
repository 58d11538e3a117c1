// Browser e2e suite against the real binary on its built-in simulator.
// Run: npm run test:e2e   (TICKWATCH_BIN=path skips `go build`; CHROMIUM_PATH overrides /usr/bin/chromium)

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, assertEqual, launchBrowser, recordCspViolations, repoRoot, runAll, sleep, startServer, test, watchConsole } from './harness.mjs';

const artifacts = join(repoRoot, 'frontend/e2e/artifacts');
mkdirSync(artifacts, { recursive: true });

const DESKTOP = { width: 1600, height: 1000 };
const NARROW = { width: 420, height: 1000 };
const col = (id) => `section[data-connection="connection_${id}"]`;

async function newSession(ctx, role, viewport = DESKTOP, reducedMotion = 'no-preference') {
  const context = await ctx.browser.newContext({ viewport, colorScheme: 'dark', reducedMotion });
  await recordCspViolations(context);
  watchConsole(context, ctx.console);
  ctx.contexts.push(context);
  const page = await context.newPage();
  if (role) await login(ctx, page, role);
  return { context, page };
}

async function login(ctx, page, role, next = '/admin/websockets') {
  const u = ctx.server.users[role];
  await page.goto(ctx.server.base + next);
  await page.waitForURL(/\/login\?next=/, { timeout: 10_000 });
  await page.fill('input[name="username"]', u.username);
  await page.fill('input[name="password"]', u.password);
  await page.click('button[type="submit"]');
}

async function apiStatus(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/admin/websocket-status', { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`websocket-status: ${r.status}`);
    return r.json();
  });
}

async function prices(page, id) {
  return page.$$eval(`${col(id)} tbody tr[data-symbol]`, (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.symbol, tr.querySelector('td.price')?.textContent?.trim() ?? ''])));
}

// ------------------------------------------------------------------ scenarios

test('an anonymous visit to the dashboard lands on the login page', async (ctx) => {
  const { page } = await newSession(ctx, null);
  await page.goto(ctx.server.base + '/');
  await page.waitForURL(/\/login\?next=%2Fadmin%2Fwebsockets/);
  await page.waitForSelector('h1:has-text("Sign in")');
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', 'wrong-password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('[role="alert"] :text("Wrong username or password")');
  await page.screenshot({ path: join(artifacts, 'login-error.png') });
  await page.context().close();
});

test('admin logs in and sees three columns with their configured names and tickers', async (ctx) => {
  const { page } = await newSession(ctx, 'admin');
  ctx.admin = page;
  await page.waitForURL(ctx.server.base + '/admin/websockets');
  await page.waitForSelector(`${col(3)} tbody tr[data-symbol]`);
  const status = await apiStatus(page);
  assertEqual(status.connections.length, 3, 'connection slots');
  assertEqual(await page.locator('section[data-connection]').count(), 3, 'columns');
  for (const c of status.connections) {
    const section = page.locator(col(c.id));
    assertEqual((await section.locator('h2 .name').textContent())?.trim(), c.name, `name of connection ${c.id}`);
    const rows = await section.locator('tbody tr[data-symbol]').evaluateAll((trs) => trs.map((t) => t.dataset.symbol));
    assertEqual([...rows].sort(), [...c.config.tickers].sort(), `tickers of connection ${c.id}`);
    assert(rows.length >= 100, `connection ${c.id} shows every ticker (${rows.length})`);
  }
  await page.waitForSelector('.sim:has-text("Simulated data")');
  await page.waitForSelector('.tile.link :text("Live")');
});

test('prices change within 2 s', async (ctx) => {
  const page = ctx.admin;
  const before = await prices(page, 1);
  const t0 = Date.now();
  let changed = [];
  while (Date.now() - t0 < 2000 && changed.length === 0) {
    await sleep(100);
    const now = await prices(page, 1);
    changed = Object.keys(now).filter((s) => now[s] !== before[s]);
  }
  assert(changed.length > 0, 'some price in column 1 changed within 2 s');
});

test('a simulator drop turns the right column disconnected/connecting and back to connected', async (ctx) => {
  const page = ctx.admin;
  const status = await apiStatus(page);
  const c2 = status.connections.find((c) => c.id === 2);
  const symbol = c2.config.tickers.find((s) => !s.includes('.'));
  const conns = await (await fetch(`${ctx.server.sim}/control/conns`)).json();
  const target = conns.find((c) => (c.subscriptions || []).some((s) => s === symbol || s.endsWith('.' + symbol)));
  assert(target, `a simulator connection subscribes ${symbol}`);
  await page.evaluate((sel) => {
    window.__seen = [];
    const el = document.querySelector(sel);
    new MutationObserver(() => window.__seen.push(el.dataset.status)).observe(el, { attributes: true, attributeFilter: ['data-status'] });
  }, col(2));
  const r = await fetch(`${ctx.server.sim}/control/drop?conn=${target.id}`, { method: 'POST' });
  assert(r.ok, `drop answered ${r.status}`);
  await page.waitForFunction(() => window.__seen.some((s) => s === 'disconnected' || s === 'connecting' || s === 'error'), null, { timeout: 10_000 });
  await page.waitForSelector(`${col(2)}[data-status="connected"]`, { timeout: 20_000 });
  const seen = await page.evaluate(() => window.__seen);
  for (const id of [1, 3]) assertEqual(await page.getAttribute(col(id), 'data-status'), 'connected', `column ${id} unaffected`);
  // The reconnect count arrives with the next metrics_update (every second).
  await page.waitForFunction((sel) => /reconnects\s*[1-9]/.test(document.querySelector(`${sel} .statusline`)?.textContent ?? ''), col(2), { timeout: 5000 });
  console.log(`     column 2 went through: ${seen.join(' → ')}`);
});

test('a viewer sees no action buttons (and, preferring reduced motion, no flashing)', async (ctx) => {
  const { page, context } = await newSession(ctx, 'viewer', DESKTOP, 'reduce');
  await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await page.waitForSelector('.role:has-text("viewer")');
  for (const name of ['Reconnect', 'Disable', 'Enable', 'Add', 'Remove ticker']) {
    assertEqual(await page.getByRole('button', { name, exact: true }).count(), 0, `"${name}" buttons for a viewer`);
  }
  assertEqual(await page.locator('form.add').count(), 0, 'add-ticker forms for a viewer');
  await page.locator(`${col(1)} details.config summary`).click();
  assertEqual(await page.locator(`${col(1)} .chip button`).count(), 0, 'remove buttons on chips for a viewer');
  await page.waitForSelector('tr[class*="fl-"]');
  const animations = await page.$$eval('tr[class*="fl-"]', (trs) => [...new Set(trs.map((t) => getComputedStyle(t).animationName))]);
  assertEqual(animations, ['none'], 'row flash animations under prefers-reduced-motion');
  await context.close();
});

test('admin adds a ticker to connection 3 and it appears in that column; removing it asks first', async (ctx) => {
  const page = ctx.admin;
  const status = await apiStatus(page);
  const assigned = new Set(status.connections.flatMap((c) => c.config.tickers));
  const symbol = ['SONY', 'HMC', 'TM', 'SAP', 'ASML', 'TSM', 'BIDU', 'NIO', 'PDD', 'JD', 'BABA', 'MELI', 'SPOT', 'LYFT'].find((s) => !assigned.has(s));
  assert(symbol, 'an unassigned symbol to add');
  ctx.added = symbol;

  // client-side validation first
  await page.fill('#add-3', 'A$B');
  await page.waitForSelector(`${col(3)} .feedback :text('"A$B" is not a valid symbol')`);
  // server-side error shown inline: a ticker already on another connection
  const taken = status.connections[0].config.tickers[0];
  await page.fill('#add-3', '');
  await page.fill('#add-3', symbol);
  await page.locator(`${col(3)} form.add button[type="submit"]`).click();
  await page.waitForSelector(`${col(3)} tr[data-symbol="${symbol}"]`, { timeout: 10_000 });
  await page.waitForSelector(`${col(3)} .feedback :text("Added ${symbol}")`);
  assertEqual(await page.locator(`tr[data-symbol="${symbol}"]`).count(), 1, `${symbol} shown once`);
  await page.fill('#add-3', taken);
  await page.waitForSelector(`${col(3)} .feedback :text("${taken} is already on connection_1")`);
  await page.fill('#add-3', '');

  // it ticks
  await page.waitForFunction((s) => {
    const td = document.querySelector(`section[data-connection="connection_3"] tr[data-symbol="${s}"] td.price`);
    return td && /\d/.test(td.textContent || '');
  }, symbol, { timeout: 10_000 });

  // find it, then remove it with confirmation
  await page.fill('#find-ticker', symbol.toLowerCase());
  await page.click('.find button[type="submit"]');
  await page.waitForSelector(`#find-result :text("connection_3")`);
  await page.screenshot({ path: join(artifacts, 'find-ticker.png'), clip: { x: 400, y: 0, width: 800, height: 260 } });
  await page.click('#find-result button:has-text("Remove ticker")');
  await page.waitForSelector('dialog[open] :text("Remove ' + symbol + '?")');
  await page.click('dialog[open] button:has-text("Cancel")');
  assertEqual(await page.locator(`${col(3)} tr[data-symbol="${symbol}"]`).count(), 1, 'cancel keeps the ticker');
  await page.click('#find-result button:has-text("Remove ticker")');
  await page.click('dialog[open] button:has-text("Remove ticker")');
  await page.waitForSelector(`#find-result :text("Removed ${symbol}")`);
  await page.waitForSelector(`${col(3)} tr[data-symbol="${symbol}"]`, { state: 'detached', timeout: 10_000 });
  await page.click('#find-result button[aria-label="Close result"]');
});

test('screenshots: desktop 1600x1000 and narrow 420', async (ctx) => {
  const page = ctx.admin;
  await page.fill('#find-ticker', '');
  await page.locator('#find-ticker').blur();
  await page.mouse.move(0, 0);
  await sleep(1500);
  await page.screenshot({ path: join(artifacts, 'dashboard-desktop.png') });
  const { page: narrow, context } = await newSession(ctx, 'admin', NARROW);
  await narrow.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await sleep(2500);
  await narrow.screenshot({ path: join(artifacts, 'dashboard-narrow.png') });
  await narrow.screenshot({ path: join(artifacts, 'dashboard-narrow-full.png'), fullPage: true });
  const light = await ctx.browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
  ctx.contexts.push(light);
  await light.addCookies(await context.cookies());
  const lp = await light.newPage();
  await lp.goto(ctx.server.base + '/admin/websockets');
  await lp.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await sleep(1500);
  await lp.screenshot({ path: join(artifacts, 'dashboard-desktop-light.png') });
  await light.close();
  await context.close();
});

test('admin disables connection 3 after confirming, sees the disabled slot, and enables it again', async (ctx) => {
  const page = ctx.admin;
  await page.locator(col(3)).getByRole('button', { name: 'Disable', exact: true }).click();
  await page.waitForSelector('dialog[open] :text("Disable tertiary?")');
  await page.click('dialog[open] button:has-text("Disable connection")');
  await page.waitForSelector(`${col(3)}[data-status="disabled"]`, { timeout: 10_000 });
  await page.waitForSelector(`${col(3)} .callout.off`);
  await sleep(300);
  await page.screenshot({ path: join(artifacts, 'disabled-slot.png') });
  await page.locator(col(3)).getByRole('button', { name: 'Enable', exact: true }).click();
  await page.click('dialog[open] button:has-text("Enable connection")');
  await page.waitForSelector(`${col(3)}[data-status="connected"]`, { timeout: 20_000 });
});

test('admin resets connection 3 to its configuration, then finds the actions in the audit view', async (ctx) => {
  const page = ctx.admin;
  // The enable above is saved as a runtime change, so the column offers the reset.
  await page.locator(col(3)).getByRole('button', { name: 'Reset to configured' }).click();
  await page.waitForSelector('dialog[open] :text("Reset tertiary to its configuration?")');
  await page.click('dialog[open] button:has-text("Reset to configured")');
  await page.waitForSelector(`${col(3)} .actions .result :text("Reset ·")`, { timeout: 10_000 });
  await page.waitForFunction((sel) => !document.querySelector(sel + ' .actions')?.textContent?.includes('Reset to configured'), col(3), { timeout: 10_000 });

  await page.click('nav[aria-label="Pages"] a:has-text("Audit")');
  await page.waitForURL(ctx.server.base + '/admin/audit');
  await page.waitForSelector('tr[data-action="reset"] :text("connection_3")');
  await page.waitForSelector('tr[data-action="disable"]');
  await page.selectOption('select:near(:text("Action"))', 'reset');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('table.log tbody tr[data-action]')];
    return rows.length > 0 && rows.every((r) => r.getAttribute('data-action') === 'reset');
  }, null, { timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'audit.png') });
  await page.click('nav[aria-label="Pages"] a:has-text("Connections")');
  await page.waitForURL(ctx.server.base + '/admin/websockets');
  await page.waitForSelector(`${col(3)} tbody tr[data-symbol]`);
});

test('a 401 from the API sends the page to login with next', async (ctx) => {
  const { page, context } = await newSession(ctx, 'admin');
  await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await context.clearCookies();
  await page.fill('#find-ticker', 'AAPL');
  await page.click('.find button[type="submit"]');
  await page.waitForURL(/\/login\?next=%2Fadmin%2Fwebsockets/, { timeout: 10_000 });
  // and logging in again returns to the dashboard
  await page.fill('input[name="username"]', ctx.server.users.admin.username);
  await page.fill('input[name="password"]', ctx.server.users.admin.password);
  await page.click('button[type="submit"]');
  await page.waitForURL(ctx.server.base + '/admin/websockets');
  await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
  await page.click('button:has-text("Log out")');
  await page.waitForURL(/\/login/);
  await context.close();
});

test('a user without the role gets the not-allowed view (403), also on reload', async (ctx) => {
  const { page, context } = await newSession(ctx, 'user');
  await page.waitForSelector('h1:has-text("Not allowed")');
  const res = await page.reload();
  assertEqual(res?.status(), 403, 'page status for the user role');
  await page.waitForSelector('h1:has-text("Not allowed")');
  const api = await page.evaluate(async () => (await fetch('/api/admin/websocket-status')).status);
  assertEqual(api, 403, 'API status for the user role');
  await page.screenshot({ path: join(artifacts, 'not-allowed.png') });
  await context.close();
});

test('an unknown path shows the 404 view', async (ctx) => {
  const { page, context } = await newSession(ctx, null);
  const res = await page.goto(ctx.server.base + '/no/such/page');
  assertEqual(res?.status(), 404, 'status');
  await page.waitForSelector('h1:has-text("Page not found")');
  await context.close();
});

test('no CSP violations or page errors were reported', async (ctx) => {
  const csp = [];
  for (const c of ctx.contexts) {
    for (const p of c.pages()) {
      try {
        csp.push(...(await p.evaluate(() => window.__csp || [])));
      } catch {
        // page closed
      }
    }
  }
  const bad = ctx.console.filter((m) => m.kind === 'pageerror' || /Content Security Policy|Refused to/i.test(m.text));
  assertEqual([...csp, ...bad.map((m) => `${m.kind}: ${m.text}`)], [], 'CSP violations / page errors');
});

// ------------------------------------------------------------------ main

const ctx = { console: [], contexts: [] };
let failed = 1;
let server;
let browser;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server?.killNow();
    process.exit(130);
  });
}
try {
  server = await startServer();
  browser = await launchBrowser();
  Object.assign(ctx, { server, browser });
  ctx.onFailure = async (name) => {
    const file = join(artifacts, `failure-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    await ctx.admin?.screenshot({ path: file });
  };
  failed = await runAll(ctx);
  if (failed > 0) console.log(`server log tail:\n${server.logs.join('').slice(-4000)}`);
} catch (err) {
  console.log(`e2e setup failed: ${err?.stack || err}`);
  console.log('0 passed, 1 failed');
} finally {
  await cleanup();
}
process.exit(failed > 0 ? 1 : 0);
