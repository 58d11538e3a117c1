// The overview grid of each column (issue 9, "seeing 1,000 tickers at
// once"): one canvas cell per ticker in the table's order, a tooltip on
// hover, arrow keys with an announcement, and Enter or a click that brings
// the ticker's row into view in the windowed table.

import { join } from 'node:path';
import { adminDashboard, apiStatus, artifacts, col, DESKTOP, expect, test } from './fixtures.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Column id's tickers in the table's default order (symbol, ascending). */
async function sortedTickers(page, id) {
  const status = await apiStatus(page);
  return [...status.connections.find((c) => c.id === id).config.tickers].sort();
}

/** The overview of column id: its canvas, focusable box, and geometry (CSS px, from the canvas's data-*). */
async function overview(page, id, count) {
  const canvas = page.locator(`${col(id)} .heat canvas`);
  await expect(canvas, 'one cell per ticker').toHaveAttribute('data-cells', String(count));
  const geo = await canvas.evaluate((c) => ({ cols: Number(c.dataset.cols), cell: Number(c.dataset.cell), pitch: Number(c.dataset.pitch) }));
  const box = await canvas.boundingBox();
  const centre = (i) => ({
    x: box.x + (i % geo.cols) * geo.pitch + geo.cell / 2,
    y: box.y + Math.floor(i / geo.cols) * geo.pitch + geo.cell / 2,
  });
  return { canvas, pad: page.locator(`${col(id)} .heat [role="application"]`), geo, centre };
}

test('the overview draws one cell per ticker, in the table order, and a hover names the ticker', async ({ page, server }) => {
  await adminDashboard(page, server);
  const tickers = await sortedTickers(page, 1);
  const { canvas, geo, centre } = await overview(page, 1, tickers.length);
  expect(geo.cols * Math.ceil(tickers.length / geo.cols)).toBeGreaterThanOrEqual(tickers.length);

  // The pixels: every cell's top-left device pixel is painted (each kind of
  // cell is opaque there), the gaps between cells and the rest of a short
  // last row are not.
  const painted = () =>
    canvas.evaluate((c, n) => {
      const cols = Number(c.dataset.cols);
      const pitch = Number(c.dataset.pitch);
      const cell = Number(c.dataset.cell);
      const r = c.width / c.getBoundingClientRect().width;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const alpha = (x, y) => px[(Math.floor(y) * c.width + Math.floor(x)) * 4 + 3];
      let cells = 0;
      let gaps = 0;
      for (let i = 0; i < n; i++) {
        const x = (i % cols) * pitch;
        const y = Math.floor(i / cols) * pitch;
        if (alpha(Math.round(x * r) + 0.5, Math.round(y * r) + 0.5) > 0) cells++;
        // the gap right of the cell (the last column has none: the canvas ends there)
        if (i % cols === cols - 1 || i === n - 1 || alpha(Math.round((x + cell) * r) + 0.5, Math.round((y + cell / 2) * r)) === 0) gaps++;
      }
      const rows = Math.ceil(n / cols);
      const spare = rows * cols - n;
      let empty = 0;
      for (let j = n; j < n + spare; j++) if (alpha(Math.round((j % cols) * pitch * r) + 1, Math.round(Math.floor(j / cols) * pitch * r) + 1) === 0) empty++;
      return { cells, gaps, empty, spare, backing: [c.width, c.height], css: [c.getBoundingClientRect().width, c.getBoundingClientRect().height], dpr: devicePixelRatio };
    }, tickers.length);
  await expect.poll(async () => (await painted()).cells, { message: 'every cell painted', timeout: 10_000 }).toBe(tickers.length);
  const p = await painted();
  expect(p.gaps, 'gaps between cells stay clear').toBe(tickers.length);
  expect(p.empty, 'nothing past the last ticker').toBe(p.spare);
  expect(p.backing, 'the backing store is in device pixels').toEqual(p.css.map((v) => Math.round(v * p.dpr)));

  // Hover: the tooltip names the ticker under the pointer, with its figures.
  const tip = page.locator(`${col(1)} .heat .tip`);
  for (const i of [0, Math.floor(tickers.length / 2), tickers.length - 1]) {
    const { x, y } = centre(i);
    await page.mouse.move(x, y);
    await expect(tip, `tooltip of cell ${i}`).toHaveAttribute('data-symbol', tickers[i]);
    await expect(tip).toContainText(tickers[i]);
    await expect(tip).toContainText(/\d+s ago|no tick yet/);
  }
  await page.mouse.move(0, 0);
  await expect(tip).toHaveCount(0);

  // The cells follow the table's sort: Symbol again is descending.
  await page.locator(col(1)).getByRole('button', { name: /^Symbol/ }).click();
  await expect(page.locator(`${col(1)} .heat .ttl`)).toContainText('Symbol ↓');
  const first = centre(0);
  await page.mouse.move(first.x, first.y);
  await expect(tip, 'descending: the last symbol comes first').toHaveAttribute('data-symbol', tickers.at(-1));
});

test('the tooltip follows its ticker while it is shown, even for a row the windowed table does not render', async ({ page, server }) => {
  await adminDashboard(page, server);
  const tickers = await sortedTickers(page, 1);
  const { centre } = await overview(page, 1, tickers.length);
  // The last ticker's row is far below the table's window: no table row
  // shows it, yet the model keeps it current and the tooltip follows it
  // (per tick through its watch on the row, at the latest on the next
  // second's redraw).
  const last = tickers.at(-1);
  await expect(page.locator(`${col(1)} tbody tr[data-symbol="${last}"]`), 'the row is not in the DOM').toHaveCount(0);
  const { x, y } = centre(tickers.length - 1);
  await page.mouse.move(x, y);
  const tip = page.locator(`${col(1)} .heat .tip`);
  await expect(tip).toHaveAttribute('data-symbol', last);
  const price = tip.locator('.mono').nth(1);
  await expect(price).toHaveText(/\d/, { timeout: 10_000 });
  const first = await price.textContent();
  await expect.poll(() => price.textContent(), { message: `${last}'s price moves in the tooltip`, timeout: 20_000 }).not.toBe(first);
});

test('keyboard: arrows move a focus cell and say what it holds; Enter shows the row in the windowed table', async ({ page, server }) => {
  await adminDashboard(page, server);
  const tickers = await sortedTickers(page, 1);
  const { pad, geo } = await overview(page, 1, tickers.length);
  const rows = Math.ceil(tickers.length / geo.cols);
  expect(rows, 'enough rows to move down twice').toBeGreaterThanOrEqual(3);
  const live = page.locator(`${col(1)} .heat [aria-live="polite"]`);

  await pad.focus();
  await expect(live, 'focus starts at the first ticker').toContainText(`${tickers[0]}:`);
  await expect(page.locator(`${col(1)} .heat .ring.focus`)).toBeVisible();
  for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowLeft']) await page.keyboard.press(key);
  const idx = 2 * geo.cols + 2;
  const target = tickers[idx];
  await expect(live).toContainText(`${target}:`);
  await expect(live).toContainText(`${idx + 1} of ${tickers.length}`);

  // Far below the rows the table renders at first.
  const board = page.locator(`${col(1)} .scroll`);
  const row = board.locator(`tr[data-symbol="${target}"]`);
  if (idx > 40) await expect(row, 'not rendered before the jump').toHaveCount(0);
  await page.keyboard.press('Enter');
  await expect(row).toBeInViewport({ timeout: 10_000 });
  await expect(row).toHaveAttribute('aria-rowindex', String(idx + 2));
  await expect(row, 'highlighted for a moment').toHaveClass(/\bhl\b/);
  await expect(live).toContainText(`${target} shown in the table, row ${idx + 1} of ${tickers.length}`);
  await expect(pad, 'focus stays on the overview').toBeFocused();
  await expect(row, 'the highlight goes').not.toHaveClass(/\bhl\b/, { timeout: 5000 });

  // A filter that hides the ticker is cleared, and the announcement says so.
  await page.fill('#filter-1', tickers[0]);
  await expect(board.locator('tbody tr[data-symbol]')).toHaveCount(tickers.filter((t) => t.includes(tickers[0])).length);
  await pad.focus();
  await page.keyboard.press('End');
  const last = tickers.at(-1);
  await expect(live).toContainText(`${last}:`);
  await expect(live).toContainText('hidden by the filter');
  await page.keyboard.press('Enter');
  await expect(page.locator('#filter-1')).toHaveValue('');
  await expect(board.locator(`tr[data-symbol="${last}"]`)).toBeInViewport({ timeout: 10_000 });
  await expect(live).toContainText(`The filter “${tickers[0]}” was cleared`);
});

test('clicking the cell of the last ticker scrolls the table to it', async ({ page, server }) => {
  await adminDashboard(page, server);
  const tickers = await sortedTickers(page, 2);
  const { centre } = await overview(page, 2, tickers.length);
  const last = tickers.at(-1);
  const row = page.locator(`${col(2)} .scroll tr[data-symbol="${last}"]`);
  await expect(row, 'the last row is not rendered at first').toHaveCount(0);
  const { x, y } = centre(tickers.length - 1);
  await page.mouse.click(x, y);
  await expect(row).toBeInViewport({ timeout: 10_000 });
  await expect(row).toHaveAttribute('aria-rowindex', String(tickers.length + 1));
  await expect(row).toHaveClass(/\bhl\b/);
});

test('a ticker that stops ticking turns stale, one that never ticked is hollow, both as the legend shows', async ({ page, server }) => {
  await adminDashboard(page, server);
  const status = await apiStatus(page);
  const tickers = [...status.connections.find((c) => c.id === 3).config.tickers].sort();
  const assigned = new Set(status.connections.flatMap((c) => c.config.tickers));
  // A ticker of the column goes silent upstream; a new one is silent from the start.
  const dead = tickers[Math.floor(tickers.length / 2)];
  const fresh = ['SONY', 'HMC', 'TM', 'SAP', 'ASML', 'TSM', 'BIDU', 'NIO', 'PDD', 'JD'].find((s) => !assigned.has(s));
  const mute = (sym, on) => fetch(`${server.sim}/control/mute?symbol=${sym}&on=${on}`, { method: 'POST' });
  try {
    expect((await mute(dead, true)).status).toBe(200);
    expect((await mute(fresh, true)).status).toBe(200);
    const added = await page.request.post('/api/admin/subscriptions', { data: { tickers: [fresh], connection_id: 3 }, headers: { Origin: server.base } });
    expect(added.status(), `adding ${fresh}`).toBe(200);
    const all = [...tickers, fresh].sort();
    const { canvas, centre } = await overview(page, 3, all.length);
    const tip = page.locator(`${col(3)} .heat .tip`);
    const hover = async (sym) => {
      const { x, y } = centre(all.indexOf(sym));
      await page.mouse.move(x, y);
      await expect(tip).toHaveAttribute('data-symbol', sym);
    };

    await hover(fresh);
    await expect(tip).toContainText('no tick yet');
    await hover(dead);
    await expect(tip, 'stale once silent for longer than the column usually is').toContainText('stale', { timeout: 20_000 });
    await page.mouse.move(0, 0);

    // The pixels: the stale cell has the legend's stale colour at its
    // top-left corner (the stripe runs the other diagonal); the hollow one
    // has the "no tick" outline and a clear middle.
    const legend = async (cls) =>
      page.locator(`${col(3)} .heat .sw.${cls}`).evaluate((el, c) => {
        const v = getComputedStyle(el)[c === 'none' ? 'borderTopColor' : 'backgroundColor'];
        return v.match(/\d+/g).slice(0, 3).map(Number);
      }, cls);
    const pixel = (i, fx, fy) =>
      canvas.evaluate(
        (c, [i, fx, fy]) => {
          const cols = Number(c.dataset.cols);
          const pitch = Number(c.dataset.pitch);
          const cell = Number(c.dataset.cell);
          const r = c.width / c.getBoundingClientRect().width;
          const x = Math.round(((i % cols) * pitch + cell * fx) * r);
          const y = Math.round((Math.floor(i / cols) * pitch + cell * fy) * r);
          return [...c.getContext('2d').getImageData(x, y, 1, 1).data];
        },
        [i, fx, fy],
      );
    // within 3 per channel: the ring is a stroke, which the rasteriser may blend by a unit
    const near = (a, b) => a.slice(0, 3).every((v, k) => Math.abs(v - b[k]) <= 3);
    const staleRgb = await legend('stale');
    await expect.poll(async () => near(await pixel(all.indexOf(dead), 0.1, 0.1), staleRgb), { message: 'the stale colour', timeout: 5000 }).toBe(true);
    const noneRgb = await legend('none');
    const ringPx = await pixel(all.indexOf(fresh), 0, 0);
    expect(near(ringPx, noneRgb), `hollow: the outline (${ringPx} vs ${noneRgb})`).toBe(true);
    expect((await pixel(all.indexOf(fresh), 0.5, 0.5))[3], 'hollow: nothing inside').toBe(0);
    await page.locator(`${col(3)} .heat`).screenshot({ path: join(artifacts, 'overview-stale.png') });
  } finally {
    await mute(dead, false);
    await mute(fresh, false);
    await page.request.post('/api/admin/connections/3/reset', { headers: { Origin: server.base } });
  }
});

test('screenshots of the overview: desktop dark and light, and 390 px', async ({ page, server, newContext }) => {
  test.slow();
  await adminDashboard(page, server);
  const tickers = await sortedTickers(page, 1);
  const { centre } = await overview(page, 1, tickers.length);
  await sleep(1500);
  const { x, y } = centre(Math.floor(tickers.length / 3));
  await page.mouse.move(x, y);
  await page.screenshot({ path: join(artifacts, 'overview-desktop.png') });

  const sameSession = async (options) => {
    const c = await newContext(options);
    await c.addCookies(await page.context().cookies());
    const p = await c.newPage();
    await p.goto(server.base + '/admin/websockets');
    await p.waitForSelector(`${col(1)} .heat canvas[data-cells="${tickers.length}"]`);
    return p;
  };
  const light = await sameSession({ viewport: DESKTOP, colorScheme: 'light' });
  await sleep(1500);
  await light.locator(`${col(1)} .heat [role="application"]`).focus();
  await light.keyboard.press('ArrowRight');
  await light.screenshot({ path: join(artifacts, 'overview-desktop-light.png') });

  const narrow = await sameSession({ viewport: { width: 390, height: 844 } });
  await sleep(1500);
  const heat = narrow.locator(`${col(1)} .heat`);
  await heat.scrollIntoViewIfNeeded();
  // Nothing of the overview spills out of its column.
  const fits = await heat.evaluate((el) => {
    const colBox = el.closest('section').getBoundingClientRect();
    return [...el.querySelectorAll('canvas, .cap, .legend')].every((n) => {
      const b = n.getBoundingClientRect();
      return b.left >= colBox.left - 0.5 && b.right <= colBox.right + 0.5;
    });
  });
  expect(fits, 'the overview fits its column at 390 px').toBe(true);
  await narrow.screenshot({ path: join(artifacts, 'overview-narrow.png') });
  await heat.screenshot({ path: join(artifacts, 'overview-narrow-grid.png') });
});
