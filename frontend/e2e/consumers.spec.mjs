// The Consumers page live: a program connects to the relay at /stocks with
// a consumer key made through the API, and its row appears, shows its
// subscription and goes away with why, from the /admin-ws events alone
// (the page's REST refresh while live is 30 s, longer than any wait here).

import { join } from 'node:path';
import { artifacts, expect, login, test } from './fixtures.mjs';

/** Opens a relay consumer from its own blank page (no cookie: the key is its credential) and subscribes pairs. */
async function openConsumer(newContext, server, key, pairs) {
  const ctx = await newContext();
  const page = await ctx.newPage();
  const url = server.base.replace(/^http/, 'ws') + '/stocks';
  const ok = await page.evaluate(
    ({ url, key, pairs }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        window.__consumer = ws;
        const acks = new Set();
        ws.onmessage = (e) => {
          for (const m of JSON.parse(e.data)) {
            if (m.ev !== 'status') continue;
            if (m.status === 'connected') ws.send(JSON.stringify({ action: 'auth', params: key }));
            else if (m.status === 'auth_success') ws.send(JSON.stringify({ action: 'subscribe', params: pairs.join(',') }));
            else if (m.status === 'success') acks.add(m.message);
            else reject(new Error(`${m.status}: ${m.message}`));
          }
          if (acks.size === pairs.length) resolve(true);
        };
        ws.onclose = (e) => reject(new Error(`closed ${e.code} before the subscriptions were acknowledged`));
      }),
    { url, key, pairs },
  );
  expect(ok).toBe(true);
  return {
    /** Closes like a program that is done (1000). */
    close: () => page.evaluate(() => window.__consumer.close(1000)),
  };
}

test('a relay consumer appears and leaves live on the Consumers page', async ({ page, server, newContext }) => {
  await login(page, server, 'admin', '/admin/consumers');
  await page.waitForURL(server.base + '/admin/consumers');
  const feed = page.getByTestId('consumers-feed');
  await expect(feed).toHaveText('Live.');
  await expect(page.getByText('No consumer is connected.')).toBeVisible();

  const made = [];
  for (const name of ['e2e notebook', 'e2e recorder']) {
    const r = await page.request.post('/api/admin/consumer-keys', { data: { name }, headers: { Origin: server.base } });
    expect(r.status(), `create key ${name}`).toBe(201);
    made.push((await r.json()).key);
  }

  // It connects: its row comes with the events, subscriptions included.
  const notebook = await openConsumer(newContext, server, made[0], ['T.AAPL', 'Q.MSFT']);
  const rows = page.locator('section[aria-labelledby="consumers-title"] tbody tr');
  const nbRow = rows.filter({ hasText: 'e2e notebook' });
  await expect(nbRow).toHaveCount(1, { timeout: 10_000 });
  await expect(nbRow.locator('td').nth(4)).toHaveText('2', { timeout: 10_000 });
  // The keys table follows too: one connection on the key.
  await expect(page.locator('section[aria-labelledby="keys-title"] tbody tr', { hasText: 'e2e notebook' }).locator('td').nth(4)).toHaveText('1');
  await page.screenshot({ path: join(artifacts, 'consumers.png'), fullPage: true });

  // It leaves: the row goes, and the page says why.
  await notebook.close();
  await expect(nbRow).toHaveCount(0, { timeout: 10_000 });
  const departed = page.locator('section[aria-labelledby="departed-title"] li');
  await expect(departed.filter({ hasText: 'e2e notebook' })).toContainText('left');

  // An admin disconnects one from the page.
  await openConsumer(newContext, server, made[1], ['T.XOM']);
  const recRow = rows.filter({ hasText: 'e2e recorder' });
  await expect(recRow).toHaveCount(1, { timeout: 10_000 });
  await recRow.getByRole('button', { name: 'Disconnect' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Disconnect' }).click();
  await expect(recRow).toHaveCount(0, { timeout: 10_000 });
  await expect(departed.first()).toContainText('disconnected by an admin');
  await expect(departed.first()).toContainText('e2e recorder');
  await expect(page.getByText('No consumer is connected.')).toBeVisible();
  await expect(feed).toHaveText('Live.');
});
