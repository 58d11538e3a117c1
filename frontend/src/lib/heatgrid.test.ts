import { describe, expect, it } from 'vitest';
import {
  cellAt,
  cellCode,
  cellOrigin,
  changeLevel,
  CODE_COUNT,
  CODE_DIM,
  CODE_NONE,
  CODE_STALE,
  codeOfLevel,
  cssColour,
  fillCodes,
  gridLayout,
  heatPalette,
  HeatPainter,
  legendSteps,
  levelOfCode,
  mix,
  moveFocus,
  parseColour,
  staleAfter,
  STALE_MAX_S,
  STALE_MIN_S,
  type HeatRow,
  type HeatTokens,
  type Paint2D,
  type RGBA,
} from './heatgrid';

/** A theme whose colours are easy to check by eye: greys, pure green and red. */
const tokens: HeatTokens = {
  up: [0, 200, 0, 1],
  down: [200, 0, 0, 1],
  flat: [40, 40, 40, 1],
  none: [90, 90, 90, 1],
  stale: [160, 160, 160, 1],
  bg: [20, 20, 20, 1],
};

describe('gridLayout', () => {
  it.each([
    // 167 tickers (the demo's share) in a desktop column: the largest cell
    { name: 'demo column', count: 167, width: 500, want: { cell: 12, pitch: 13, cols: 38, rows: 5, width: 38 * 13 - 1, height: 5 * 13 - 1 } },
    // 1,000 at 390 px: 7 px would need 23 rows (183 px > 180), so 6 px
    { name: '1,000 on a phone', count: 1000, width: 366, want: { cell: 6, pitch: 7, cols: 52, rows: 20, width: 52 * 7 - 1, height: 20 * 7 - 1 } },
    // 3,334 (extreme load) fits no cell under 180 px: the smallest, taller
    { name: 'extreme column', count: 3334, width: 440, want: { cell: 4, pitch: 5, cols: 88, rows: 38, width: 88 * 5 - 1, height: 38 * 5 - 1 } },
    // fewer tickers than fit in a row: one short row, no trailing empty columns
    { name: 'a handful', count: 5, width: 500, want: { cell: 12, pitch: 13, cols: 5, rows: 1, width: 64, height: 12 } },
    { name: 'no tickers', count: 0, width: 500, want: { cols: 0, rows: 0, width: 0, height: 0 } },
    // not measured yet (width 0): still one column, so geometry stays defined
    { name: 'zero width', count: 3, width: 0, want: { cols: 1, rows: 3 } },
  ])('$name', ({ count, width, want }) => {
    const l = gridLayout(count, width);
    expect(l).toMatchObject({ count, ...want });
    expect(l.width).toBeLessThanOrEqual(Math.max(width, l.cell));
  });

  it('never lets the grid be wider than the width it was given', () => {
    for (const count of [1, 7, 100, 999, 1000, 3334, 10000]) {
      for (const width of [120, 366, 390, 441, 517]) {
        const l = gridLayout(count, width);
        expect(l.width, `${count} in ${width}`).toBeLessThanOrEqual(width);
        expect(l.cols * l.rows, `${count} in ${width}`).toBeGreaterThanOrEqual(count);
        expect((l.rows - 1) * l.cols, `${count} in ${width}: no empty row`).toBeLessThan(count);
      }
    }
  });
});

describe('cell geometry', () => {
  const l = gridLayout(1000, 366); // 52 cols of 6 px, pitch 7, 20 rows

  it('maps every index to its cell and back, at its centre and its corners', () => {
    for (let i = 0; i < l.count; i++) {
      const { x, y } = cellOrigin(l, i);
      expect(cellAt(l, x + l.cell / 2, y + l.cell / 2)).toBe(i);
      expect(cellAt(l, x, y)).toBe(i);
      expect(cellAt(l, x + l.cell - 0.01, y + l.cell - 0.01)).toBe(i);
    }
  });

  it.each([
    { name: 'first', i: 0, want: { x: 0, y: 0 } },
    { name: 'end of the first row', i: 51, want: { x: 51 * 7, y: 0 } },
    { name: 'start of the second row', i: 52, want: { x: 0, y: 7 } },
    { name: 'last', i: 999, want: { x: (999 % 52) * 7, y: 19 * 7 } },
  ])('origin of the $name cell', ({ i, want }) => {
    expect(cellOrigin(l, i)).toEqual(want);
  });

  it.each([
    { name: 'left of the grid', x: -1, y: 3 },
    { name: 'above the grid', x: 3, y: -0.5 },
    { name: 'right of the last column', x: 52 * 7 + 1, y: 3 },
    { name: 'below the last row', x: 3, y: 20 * 7 + 1 },
    // the last row holds 1000 - 19 * 52 = 12 cells: past them is empty
    { name: 'past the last cell of the last row', x: 12 * 7 + 3, y: 19 * 7 + 3 },
  ])('nothing $name', ({ x, y }) => {
    expect(cellAt(l, x, y)).toBe(-1);
  });

  it('counts the gap after a cell as that cell, so the pointer never falls between two', () => {
    expect(cellAt(l, 6.5, 6.5)).toBe(0);
    expect(cellAt(l, 7, 0)).toBe(1);
  });
});

describe('moveFocus', () => {
  const l = gridLayout(23, 5 * 13 - 1); // 5 cols of 12 px: rows of 5, last row holds 3 (20, 21, 22)
  it.each([
    { key: 'ArrowRight', from: 0, want: 1 },
    { key: 'ArrowRight', from: 22, want: 22 },
    { key: 'ArrowLeft', from: 0, want: 0 },
    { key: 'ArrowLeft', from: 5, want: 4 },
    { key: 'ArrowDown', from: 2, want: 7 },
    { key: 'ArrowDown', from: 17, want: 22 },
    // no cell below 19 in the short last row: stay
    { key: 'ArrowDown', from: 19, want: 19 },
    { key: 'ArrowUp', from: 7, want: 2 },
    { key: 'ArrowUp', from: 3, want: 3 },
    { key: 'PageDown', from: 1, want: 21 },
    { key: 'PageDown', from: 4, want: 19 },
    { key: 'PageUp', from: 21, want: 1 },
    { key: 'Home', from: 13, want: 0 },
    { key: 'End', from: 3, want: 22 },
    { key: 'a', from: 3, want: null },
    { key: 'Enter', from: 3, want: null },
  ])('$key from $from', ({ key, from, want }) => {
    expect(moveFocus(l, from, key)).toBe(want);
  });

  it('does nothing in an empty grid', () => {
    expect(moveFocus(gridLayout(0, 100), 0, 'ArrowRight')).toBeNull();
  });
});

describe('colour scale', () => {
  it.each([
    [0, 0],
    [0.0999, 0],
    [-0.0999, 0],
    [0.1, 1],
    [-0.1, -1],
    [0.49, 1],
    [0.5, 2],
    [-0.75, -2],
    [1, 3],
    [1.99, 3],
    [2, 4],
    [-3.9, -4],
    [4, 5],
    [-25, -5],
    [Number.NaN, 0],
  ])('change %d is step %d', (pct, want) => {
    expect(changeLevel(pct)).toBe(want);
  });

  it('gives every step, none and stale a code of its own', () => {
    const codes = new Set([CODE_NONE, CODE_STALE]);
    for (let k = -5; k <= 5; k++) {
      const c = codeOfLevel(k);
      expect(levelOfCode(c)).toBe(k);
      codes.add(c);
    }
    expect(codes.size).toBe(CODE_COUNT);
    expect(Math.max(...codes)).toBeLessThan(CODE_DIM);
  });

  it('labels the legend from the strongest fall to the strongest rise', () => {
    const s = legendSteps();
    expect(s.map((x) => levelOfCode(x.code))).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
    expect(s[0]!.label).toBe('−4 % or more');
    expect(s[5]!.label).toBe('under ±0.1 %');
    expect(s[7]!.label).toBe('+0.5 to +1 %');
  });
});

describe('stale decision', () => {
  it.each([
    // 1,000 tickers at 1,667 msgs/s: a ticker ticks every 0.6 s; 5 gaps is 3 s, floored at 5
    { name: 'busy column', tickers: 1000, mps: 1667, history: [], want: STALE_MIN_S },
    // 167 tickers at 20/s: every 8.35 s, stale after 41.75 s
    { name: 'slow column', tickers: 167, mps: 20, history: [], want: 41.75 },
    { name: 'very slow column', tickers: 1000, mps: 2, history: [], want: STALE_MAX_S },
    // silent for a few seconds: the minute's history keeps the usual cadence
    { name: 'just went silent', tickers: 1000, mps: 0, history: [1500, 1700, 0, 0], want: STALE_MIN_S },
    { name: 'history faster than now', tickers: 200, mps: 10, history: [100], want: 10 },
    // no message for a whole minute: nothing flows, everything older than the floor is stale
    { name: 'silent for a minute', tickers: 1000, mps: 0, history: [0, 0, 0], want: STALE_MIN_S },
    { name: 'garbage rates', tickers: 10, mps: Number.NaN, history: [Number.POSITIVE_INFINITY, -3], want: STALE_MIN_S },
  ])('$name', ({ tickers, mps, history, want }) => {
    expect(staleAfter(tickers, mps, history)).toBeCloseTo(want, 6);
  });

  it.each([
    { name: 'no tick yet', ts: 0, chg: 1, now: 100, stale: 5, want: CODE_NONE },
    { name: 'fresh rise', ts: 98, chg: 1.5, now: 100, stale: 5, want: codeOfLevel(3) },
    { name: 'fresh fall', ts: 100, chg: -4.2, now: 100, stale: 5, want: codeOfLevel(-5) },
    { name: 'exactly at the limit', ts: 95, chg: 1, now: 100, stale: 5, want: codeOfLevel(3) },
    { name: 'just past it', ts: 94.9, chg: 1, now: 100, stale: 5, want: CODE_STALE },
    { name: 'tick without a change', ts: 99, chg: null, now: 100, stale: 5, want: codeOfLevel(0) },
    // ahead of the page's estimate of the server clock: fresh, not negative-stale
    { name: 'tick newer than now', ts: 101, chg: 0.2, now: 100, stale: 5, want: codeOfLevel(1) },
  ])('cell code: $name', ({ ts, chg, now, stale, want }) => {
    expect(cellCode(ts, chg, now, stale)).toBe(want);
  });

  it('fills codes for rows in order, faint for rows the filter hides', () => {
    const rows: HeatRow[] = [
      { ts: 0, changePct: null },
      { ts: 99, changePct: 0.6 },
      { ts: 10, changePct: 0.6 },
      { ts: 99, changePct: -2 },
    ];
    const codes = new Uint8Array(4);
    fillCodes(codes, rows, 100, 5);
    expect([...codes]).toEqual([CODE_NONE, codeOfLevel(2), CODE_STALE, codeOfLevel(-4)]);
    fillCodes(codes, rows, 100, 5, new Set([rows[1]!, rows[2]!]));
    expect([...codes]).toEqual([CODE_NONE + CODE_DIM, codeOfLevel(2), CODE_STALE, codeOfLevel(-4) + CODE_DIM]);
  });
});

describe('palette', () => {
  it.each([
    ['#3fb950', [63, 185, 80, 1]],
    ['#FFF', [255, 255, 255, 1]],
    ['#0000', [0, 0, 0, 0]],
    ['#11223380', [17, 34, 51, 0.502]],
    ['rgb(1, 2, 3)', [1, 2, 3, 1]],
    ['rgba(63, 185, 80, 0.14)', [63, 185, 80, 0.14]],
    ['rgb(10 20 30 / 50%)', [10, 20, 30, 0.5]],
    ['  #abc  ', [170, 187, 204, 1]],
    ['rgb(300, -4, 2)', [255, 0, 2, 1]],
  ])('parses %s', (s, want) => {
    expect(parseColour(s)).toEqual(want);
  });

  it.each(['', 'red', '#12', 'rgb(1, 2)', 'hsl(0 0% 0%)', 'rgb(a, b, c)'])('refuses %j', (s) => {
    expect(parseColour(s)).toBeNull();
  });

  it('mixes and writes colours', () => {
    const a: RGBA = [0, 0, 0, 1];
    const b: RGBA = [255, 100, 50, 1];
    expect(mix(a, b, 0)).toEqual(a);
    expect(mix(a, b, 1)).toEqual(b);
    expect(mix(a, b, 0.5)).toEqual([128, 50, 25, 1]);
    expect(cssColour([63, 185, 80, 1])).toBe('#3fb950');
    expect(cssColour([1, 2, 3, 0.5])).toBe('rgba(1, 2, 3, 0.5)');
  });

  it('runs each side from flat to the full colour, every step further from flat than the last', () => {
    const p = heatPalette(tokens);
    expect(p.fill[codeOfLevel(0)]).toBe('#282828');
    expect(p.fill[codeOfLevel(5)]).toBe('#00c800');
    expect(p.fill[codeOfLevel(-5)]).toBe('#c80000');
    expect(p.fill[CODE_NONE]).toBe('#5a5a5a');
    expect(p.fill[CODE_STALE]).toBe('#a0a0a0');
    expect(p.bg).toBe('#141414');
    for (const side of [1, -1]) {
      let prev = -1;
      for (let k = 1; k <= 5; k++) {
        const c = parseColour(p.fill[codeOfLevel(side * k)]!)!;
        const strength = side > 0 ? c[1] : c[0];
        expect(strength).toBeGreaterThan(prev);
        prev = strength;
      }
    }
    expect(new Set(p.fill).size).toBe(CODE_COUNT);
  });
});

/** A 2D context that records what it is asked to draw: rectangles as they are filled or stroked. */
class Recorder implements Paint2D {
  fillStyle: Paint2D['fillStyle'] = '#000';
  strokeStyle: Paint2D['strokeStyle'] = '#000';
  globalAlpha = 1;
  lineWidth = 1;
  fills: { x: number; y: number; w: number; h: number; style: string; alpha: number }[] = [];
  rings: { x: number; y: number; w: number; h: number; style: string; width: number }[] = [];
  clears: { x: number; y: number; w: number; h: number }[] = [];
  /** Draw calls that reach the rasteriser (fill, stroke). */
  calls = 0;
  lines = 0;
  private path: { x: number; y: number; w: number; h: number }[] = [];
  clearRect(x: number, y: number, w: number, h: number): void {
    this.clears.push({ x, y, w, h });
  }
  beginPath(): void {
    this.path = [];
    this.lines = 0;
  }
  rect(x: number, y: number, w: number, h: number): void {
    this.path.push({ x, y, w, h });
  }
  moveTo(): void {}
  lineTo(): void {
    this.lines++;
  }
  fill(): void {
    this.calls++;
    for (const r of this.path) this.fills.push({ ...r, style: String(this.fillStyle), alpha: this.globalAlpha });
  }
  stroke(): void {
    this.calls++;
    for (const r of this.path) this.rings.push({ ...r, style: String(this.strokeStyle), width: this.lineWidth });
  }
  reset(): void {
    this.fills = [];
    this.rings = [];
    this.clears = [];
    this.calls = 0;
    this.lines = 0;
  }
}

describe('HeatPainter', () => {
  const pal = heatPalette(tokens);

  it('draws every cell once, then only the cells whose code changed', () => {
    const ctx = new Recorder();
    const p = new HeatPainter(ctx);
    const l = gridLayout(1000, 366);
    const codes = new Uint8Array(1000).fill(codeOfLevel(1));
    codes[500] = codeOfLevel(-2);
    expect(p.paint(l, 1, codes, pal)).toBe(1000);
    expect(ctx.fills).toHaveLength(1000);
    expect(new Set(ctx.fills.map((f) => `${f.x},${f.y}`)).size).toBe(1000);
    expect(ctx.calls, 'one fill per colour').toBe(2);
    expect(ctx.clears, 'one clear of the whole canvas').toHaveLength(1);

    ctx.reset();
    expect(p.paint(l, 1, codes, pal), 'nothing changed').toBe(0);
    expect(ctx.fills).toHaveLength(0);

    codes[0] = codeOfLevel(-3);
    codes[999] = CODE_STALE;
    expect(p.paint(l, 1, codes, pal)).toBe(2);
    expect(ctx.fills.map((f) => [f.x, f.y, f.style])).toEqual(
      expect.arrayContaining([
        [0, 0, pal.fill[codeOfLevel(-3)]],
        [(999 % 52) * 7, 19 * 7, pal.fill[CODE_STALE]],
      ]),
    );
    expect(ctx.fills).toHaveLength(2);
    expect(ctx.clears, 'an opaque paint covers what was there').toHaveLength(0);
    expect(ctx.lines, 'the stale stripe').toBe(1);

    ctx.reset();
    p.invalidate();
    expect(p.paint(l, 1, codes, pal), 'after invalidate: all again').toBe(1000);
    expect(ctx.clears).toEqual([{ x: 0, y: 0, w: l.width + 1, h: l.height + 1 }]);
  });

  it('places cells on whole device pixels at a fractional devicePixelRatio', () => {
    const ctx = new Recorder();
    const l = gridLayout(10, 200); // 10 cells of 12 px in one row
    new HeatPainter(ctx).paint(l, 1.5, new Uint8Array(10).fill(codeOfLevel(0)), pal);
    for (const f of ctx.fills) {
      expect(Number.isInteger(f.x) && Number.isInteger(f.y) && Number.isInteger(f.w) && Number.isInteger(f.h)).toBe(true);
      expect(f.w).toBe(18); // 12 CSS px * 1.5
    }
    // 13 px pitch * 1.5 = 19.5: origins alternate between rounding down and up, no overlap
    const xs = ctx.fills.map((f) => f.x);
    for (let i = 1; i < xs.length; i++) expect(xs[i]! - xs[i - 1]!).toBeGreaterThanOrEqual(19);
  });

  it('draws a cell without a tick as a ring, and one the filter hides faint', () => {
    const ctx = new Recorder();
    const l = gridLayout(2, 100);
    const codes = Uint8Array.of(CODE_NONE, codeOfLevel(2) + CODE_DIM);
    new HeatPainter(ctx).paint(l, 2, codes, pal);
    // a ring of 2 device pixels inside the 24-pixel cell: the path runs mid-line
    expect(ctx.rings).toEqual([{ x: 1, y: 1, w: 22, h: 22, style: pal.fill[CODE_NONE], width: 2 }]);
    expect(ctx.fills).toHaveLength(1);
    expect(ctx.fills[0]).toMatchObject({ style: pal.fill[codeOfLevel(2)] });
    expect(ctx.fills[0]!.alpha).toBeLessThan(0.5);
  });

  it('clears a cell before a paint that does not cover it', () => {
    const ctx = new Recorder();
    const p = new HeatPainter(ctx);
    const l = gridLayout(3, 100);
    const codes = Uint8Array.of(codeOfLevel(1), codeOfLevel(1), codeOfLevel(1));
    p.paint(l, 1, codes, pal);
    ctx.reset();
    codes[1] = CODE_NONE;
    codes[2] = codeOfLevel(1) + CODE_DIM;
    expect(p.paint(l, 1, codes, pal)).toBe(2);
    expect(ctx.clears).toEqual([
      { x: 13, y: 0, w: 12, h: 12 },
      { x: 26, y: 0, w: 12, h: 12 },
    ]);
  });

  it('starts over when the number of cells changes', () => {
    const ctx = new Recorder();
    const p = new HeatPainter(ctx);
    p.paint(gridLayout(5, 100), 1, new Uint8Array(5), pal);
    ctx.reset();
    expect(p.paint(gridLayout(6, 100), 1, new Uint8Array(6), pal)).toBe(6);
  });
});
