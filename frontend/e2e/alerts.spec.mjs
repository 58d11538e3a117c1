// Alerting end to end: a symbol the simulator mutes (subscription
// acknowledged, no data) becomes a visible alert in the dashboard, is
// acknowledged, and clears once the symbol trades again; many symbols of one
// connection going silent together are one alert for the connection.

import { join } from 'node:path';
import { artifacts, col, DESKTOP, expect, login, test } from './fixtures.mjs';
import { startServer } from './server.mjs';

// Its own server: short thresholds, a market that is always open, and a
// faster tape so every symbol has a per-second bar.
const ALERT_ENV = {
  MARKET_HOURS: 'always',
  ALERT_CHECK_INTERVAL: '200ms',
  ALERT_TICKER_SILENCE_MIN: '3s',
  ALERT_TICKER_SILENCE_FACTOR: '5',
  SIM_TICKS_PER_SECOND: '3000',
};

async function simControl(server, action) {
  const r = await fetch(`${server.sim}/control/${action}`, { method: 'POST' });
  expect(r.status, `simulator control ${action}`).toBe(200);
}

test('a muted symbol turns into a visible alert, is acknowledged, and clears', async ({ page }) => {
  test.setTimeout(120_000);
  const server = await startServer(ALERT_ENV);
  try {
    await page.setViewportSize(DESKTOP);
    await login(page, server, 'admin');
    await page.waitForURL(server.base + '/admin/websockets');
    await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
    const count = page.getByTestId('alerts-firing');
    await expect(count).toHaveText('0 alerts');
    // A few seconds of bars: every symbol learns its usual gap.
    await page.waitForTimeout(5_000);

    await simControl(server, 'mute?symbol=AAPL');
    const item = page.locator('section[aria-label="Alerts"] li', { hasText: 'Ticker silent: AAPL' });
    await expect(item).toHaveAttribute('data-state', 'firing', { timeout: 30_000 });
    await expect(count).toHaveText(/^[1-9]\d* alerts?$/);
    await expect(count).toHaveClass(/hot/);

    await item.getByRole('button', { name: 'Acknowledge' }).click();
    await expect(item.locator('.acked')).toHaveText('seen by admin');

    await simControl(server, 'mute?symbol=AAPL&on=false');
    await expect(item).toHaveAttribute('data-state', 'resolved', { timeout: 30_000 });
    await expect(item).toContainText('resolved');
    await expect(count).toHaveText('0 alerts');

    // The API agrees, and the acknowledgement is in the audit log.
    const list = await (await page.request.get(`${server.base}/api/admin/alerts`)).json();
    const a = list.alerts.find((x) => x.ticker === 'AAPL' && x.kind === 'ticker_silent');
    expect(a?.state).toBe('resolved');
    expect(a?.acked_by).toBe('admin');
    const audit = await (await page.request.get(`${server.base}/api/admin/audit?action=alert_ack`)).json();
    expect(audit.entries[0]?.target).toBe(`alert ${a.id}`);
  } finally {
    await server.stop();
  }
});

test('many tickers of one connection going silent at once are one alert for the connection, not one each', async ({ page }) => {
  test.setTimeout(120_000);
  const server = await startServer(ALERT_ENV);
  try {
    await page.setViewportSize(DESKTOP);
    await login(page, server, 'admin');
    await page.waitForURL(server.base + '/admin/websockets');
    await page.waitForSelector(`${col(1)} tbody tr[data-symbol]`);
    const count = page.getByTestId('alerts-firing');
    await expect(count).toHaveText('0 alerts');
    await page.waitForTimeout(5_000);

    // What a link that silently stopped resubscribing looks like: seven of
    // connection_1's tickers stop while the rest keep trading (the default
    // ALERT_TICKER_SILENCE_GROUP is 5).
    const status = await (await page.request.get(`${server.base}/api/admin/websocket-status`)).json();
    const muted = status.connections.find((c) => c.id === 1).config.tickers.slice(0, 7);
    for (const s of muted) await simControl(server, `mute?symbol=${s}`);

    const group = page.locator('section[aria-label="Alerts"] li', { hasText: 'Tickers silent: connection_1' });
    await expect(group).toHaveAttribute('data-state', 'firing', { timeout: 30_000 });
    await expect(group).toContainText('7 tickers silent while connection_1 keeps ticking');
    await expect(count, 'one incident, not seven').toHaveText('1 alert');
    await page.locator('section[aria-label="Alerts"]').screenshot({ path: join(artifacts, 'alert-group.png') });

    for (const s of muted) await simControl(server, `mute?symbol=${s}&on=false`);
    await expect(group).toHaveAttribute('data-state', 'resolved', { timeout: 30_000 });
    await expect(count).toHaveText('0 alerts');
  } finally {
    await server.stop();
  }
});
