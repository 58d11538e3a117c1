// The overview of a connection column ("heat grid"): one small square per
// ticker, coloured by its change since the open, so an operator sees 1,000
// tickers at once and spots the dead or the wild one without scrolling.
// This module is the pure part (geometry, colour scale, staleness, palette);
// HeatGrid.svelte draws it on a canvas and handles pointer and keyboard.

/** Cell geometry of a grid, in CSS pixels. */
export interface GridLayout {
  count: number;
  cols: number;
  rows: number;
  /** Side of a cell. */
  cell: number;
  /** Space between cells. */
  gap: number;
  /** cell + gap: distance from one cell's origin to the next. */
  pitch: number;
  /** Size of the drawn grid (no trailing gap). */
  width: number;
  height: number;
}

export interface LayoutOptions {
  minCell?: number;
  maxCell?: number;
  gap?: number;
  /** The tallest grid wanted; the largest cell that keeps under it wins (minCell if none does). */
  maxHeight?: number;
}

/**
 * Lays count cells out in width: square cells of a whole number of pixels
 * (crisp at any devicePixelRatio), as large as maxHeight allows, so 150
 * tickers get easy-to-hit 12 px cells and 3,334 still fit in a few rows of
 * 4 px ones.
 */
export function gridLayout(count: number, width: number, o: LayoutOptions = {}): GridLayout {
  const minCell = o.minCell ?? 4;
  const maxCell = Math.max(minCell, o.maxCell ?? 12);
  const gap = o.gap ?? 1;
  const maxHeight = o.maxHeight ?? 180;
  const w = Math.max(0, Math.floor(width));
  const n = Math.max(0, Math.floor(count));
  const fit = (cell: number): GridLayout => {
    const pitch = cell + gap;
    const cols = n === 0 ? 0 : Math.max(1, Math.min(n, Math.floor((w + gap) / pitch)));
    const rows = cols === 0 ? 0 : Math.ceil(n / cols);
    return {
      count: n,
      cols,
      rows,
      cell,
      gap,
      pitch,
      width: cols === 0 ? 0 : cols * pitch - gap,
      height: rows === 0 ? 0 : rows * pitch - gap,
    };
  };
  for (let cell = maxCell; cell > minCell; cell--) {
    const l = fit(cell);
    if (l.height <= maxHeight) return l;
  }
  return fit(minCell);
}

/** Top-left corner of cell i (CSS px). */
export function cellOrigin(l: GridLayout, i: number): { x: number; y: number } {
  return { x: (i % l.cols) * l.pitch, y: Math.floor(i / l.cols) * l.pitch };
}

/**
 * The cell under point (x, y) (CSS px from the grid's top-left), or -1. The
 * gap right of and below a cell counts as that cell, so a pointer moving
 * across the grid never falls between two cells.
 */
export function cellAt(l: GridLayout, x: number, y: number): number {
  if (l.cols === 0 || x < 0 || y < 0 || x >= l.cols * l.pitch || y >= l.rows * l.pitch) return -1;
  const i = Math.floor(y / l.pitch) * l.cols + Math.floor(x / l.pitch);
  return i < l.count ? i : -1;
}

/**
 * Where a key moves the focus cell from i: arrows by one cell (up and down
 * by a row), Page Up/Down by five rows, Home/End to the first and last
 * cell. Returns null for a key the grid does not handle. Moves stop at the
 * edges rather than wrap, as in a data grid.
 */
export function moveFocus(l: GridLayout, i: number, key: string): number | null {
  if (l.count === 0) return null;
  const last = l.count - 1;
  const cur = Math.min(Math.max(i, 0), last);
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, cur - 1);
    case 'ArrowRight':
      return Math.min(last, cur + 1);
    case 'ArrowUp':
      return cur - l.cols >= 0 ? cur - l.cols : cur;
    case 'ArrowDown':
      return cur + l.cols <= last ? cur + l.cols : cur;
    case 'PageUp':
      return Math.max(cur % l.cols, cur - 5 * l.cols);
    case 'PageDown': {
      let j = cur;
      for (let k = 0; k < 5 && j + l.cols <= last; k++) j += l.cols;
      return j;
    }
    case 'Home':
      return 0;
    case 'End':
      return last;
    default:
      return null;
  }
}

// ---- colour scale --------------------------------------------------------

/**
 * Change (%) from which each step of the scale starts, on either side of 0.
 * Roughly doubling: most of a quiet tape sits in the first two steps, and a
 * ticker 4 % or more off its open (the "wild" one) takes the strongest colour.
 */
export const CHANGE_STEPS = [0.1, 0.5, 1, 2, 4] as const;

/** Step of a change on the scale: -5..5, 0 for |change| under 0.1 %. */
export function changeLevel(pct: number): number {
  if (!Number.isFinite(pct)) return 0;
  const a = Math.abs(pct);
  let k = 0;
  while (k < CHANGE_STEPS.length && a >= CHANGE_STEPS[k]!) k++;
  return pct < 0 && k > 0 ? -k : k;
}

/** Paint codes of a cell: what decides its colour. */
export const CODE_NONE = 0; // no tick yet
export const CODE_STALE = 1; // no tick for longer than the column's normal cadence
const CODE_LEVEL0 = 2 + CHANGE_STEPS.length; // code of level 0; level k is CODE_LEVEL0 + k
/** Number of distinct paint codes (none, stale, and the 11 steps). */
export const CODE_COUNT = CODE_LEVEL0 + CHANGE_STEPS.length + 1;

export const codeOfLevel = (level: number): number => CODE_LEVEL0 + level;
export const levelOfCode = (code: number): number => code - CODE_LEVEL0;

/**
 * The paint code of a ticker: no tick yet, stale (last tick older than
 * staleAfterS on the server's clock), or its step of the change scale (a
 * tick without a change value counts as flat).
 */
export function cellCode(ts: number, changePct: number | null, nowSec: number, staleAfterS: number): number {
  if (!ts) return CODE_NONE;
  if (nowSec - ts > staleAfterS) return CODE_STALE;
  return codeOfLevel(changePct === null ? 0 : changeLevel(changePct));
}

// ---- staleness -----------------------------------------------------------

/** A ticker is stale after this many of its column's normal gaps between ticks... */
export const STALE_GAPS = 5;
/** ...but never sooner (ticks reach the page up to a second apart when it is slowed down)... */
export const STALE_MIN_S = 5;
/** ...and always after this long without a tick, however slow the column's normal rate. */
export const STALE_MAX_S = 120;

/**
 * Seconds without a tick after which a ticker of a column counts as stale.
 * The column's normal cadence is its tickers divided by its rate, where the
 * rate is the best of the current messages/s and the last minute's
 * per-second history: a connection that went silent a moment ago keeps the
 * cadence it had, so its tickers turn stale after a few seconds. A column
 * with no message at all for a minute has no cadence: nothing flows, so
 * everything older than STALE_MIN_S is stale (not "never", which would turn
 * a long-dead column back to colour once its history runs out).
 */
export function staleAfter(tickers: number, mps: number, history: readonly number[] = []): number {
  let rate = Number.isFinite(mps) ? mps : 0;
  for (const r of history) if (Number.isFinite(r) && r > rate) rate = r;
  if (rate <= 0) return STALE_MIN_S;
  return Math.min(STALE_MAX_S, Math.max(STALE_MIN_S, (STALE_GAPS * Math.max(1, tickers)) / rate));
}

// ---- palette -------------------------------------------------------------

export type RGBA = readonly [r: number, g: number, b: number, a: number];

/**
 * Parses the colour forms a canvas hands back and the tokens use: #rgb,
 * #rgba, #rrggbb, #rrggbbaa, rgb()/rgba() with commas or spaces. Anything
 * else is null (the component first normalises a token through the canvas,
 * which answers in one of these forms).
 */
export function parseColour(s: string): RGBA | null {
  const t = s.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(t);
  if (hex) {
    let h = hex[1]!;
    if (h.length <= 4) h = [...h].map((c) => c + c).join('');
    const n = (k: number) => parseInt(h.slice(k, k + 2), 16);
    return [n(0), n(2), n(4), h.length === 8 ? Math.round((n(6) / 255) * 1000) / 1000 : 1];
  }
  const fn = /^rgba?\(\s*([^)]*)\)$/.exec(t);
  if (!fn) return null;
  const parts = fn[1]!.split(/[\s,/]+/).filter((p) => p !== '');
  if (parts.length !== 3 && parts.length !== 4) return null;
  const num = (p: string, scale: number) => (p.endsWith('%') ? (parseFloat(p) / 100) * scale : parseFloat(p));
  const [r, g, b] = parts.slice(0, 3).map((p) => num(p, 255));
  const a = parts.length === 4 ? num(parts[3]!, 1) : 1;
  if (![r, g, b, a].every((v) => Number.isFinite(v))) return null;
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  return [clamp(Math.round(r!), 255), clamp(Math.round(g!), 255), clamp(Math.round(b!), 255), clamp(a, 1)];
}

/** a and b mixed in sRGB: t = 0 is a, t = 1 is b. */
export function mix(a: RGBA, b: RGBA, t: number): RGBA {
  const l = (x: number, y: number) => x + (y - x) * t;
  return [Math.round(l(a[0], b[0])), Math.round(l(a[1], b[1])), Math.round(l(a[2], b[2])), Math.round(l(a[3], b[3]) * 1000) / 1000];
}

export function cssColour(c: RGBA): string {
  if (c[3] >= 1) return '#' + c.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('');
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${c[3]})`;
}

/** The theme's colours for the grid (CSS custom properties --heat-*, see app.css). */
export interface HeatTokens {
  up: RGBA;
  down: RGBA;
  flat: RGBA;
  /** Outline of a cell with no tick yet (drawn hollow). */
  none: RGBA;
  /** Fill of a stale cell (crossed by a stripe of the background colour). */
  stale: RGBA;
  /** The panel behind the grid. */
  bg: RGBA;
}

export interface HeatPalette {
  /** Fill per paint code; CODE_NONE's is the outline colour. */
  fill: string[];
  bg: string;
}

/**
 * Where each step sits between flat (0) and the full up/down colour (1).
 * The first step is already well off flat so a small move reads; the steps
 * are even in between, so lightness alone tells the size of a move.
 */
export const STEP_MIX = [0.3, 0.48, 0.65, 0.82, 1] as const;

export function heatPalette(t: HeatTokens): HeatPalette {
  const fill: string[] = new Array<string>(CODE_COUNT);
  fill[CODE_NONE] = cssColour(t.none);
  fill[CODE_STALE] = cssColour(t.stale);
  for (let k = -CHANGE_STEPS.length; k <= CHANGE_STEPS.length; k++) {
    const c = k === 0 ? t.flat : mix(t.flat, k > 0 ? t.up : t.down, STEP_MIX[Math.abs(k) - 1]!);
    fill[codeOfLevel(k)] = cssColour(c);
  }
  return { fill, bg: cssColour(t.bg) };
}

/** The legend's steps, strongest fall first: label and paint code. */
export function legendSteps(): { code: number; label: string }[] {
  const out: { code: number; label: string }[] = [];
  const n = CHANGE_STEPS.length;
  const fmt = (v: number) => `${v}`;
  for (let k = -n; k <= n; k++) {
    let label: string;
    if (k === 0) label = `under ±${fmt(CHANGE_STEPS[0])} %`;
    else {
      const a = Math.abs(k);
      const lo = CHANGE_STEPS[a - 1]!;
      const hi = CHANGE_STEPS[a];
      const sign = k > 0 ? '+' : '−';
      label = hi === undefined ? `${sign}${fmt(lo)} % or more` : `${sign}${fmt(lo)} to ${sign}${fmt(hi)} %`;
    }
    out.push({ code: codeOfLevel(k), label });
  }
  return out;
}

// ---- painting ------------------------------------------------------------

/** Added to a paint code for a cell the table's filter hides (drawn faint). */
export const CODE_DIM = 16;

/** What of a ticker row the grid reads. */
export interface HeatRow {
  readonly ts: number;
  readonly changePct: number | null;
}

/** The paint code of one row: cellCode, plus CODE_DIM when shown is given and does not hold it. */
export function rowCode<R extends HeatRow>(r: R, nowSec: number, staleAfterS: number, shown: ReadonlySet<R> | null = null): number {
  const c = cellCode(r.ts, r.changePct, nowSec, staleAfterS);
  return shown !== null && !shown.has(r) ? c + CODE_DIM : c;
}

/**
 * Fills codes[i] with the paint code of rows[i] (rowCode). One pass, no
 * allocation: the grid runs it when anything but a tick changed (a second
 * passed, a re-sort, the filter); ticks update only their rows' codes.
 */
export function fillCodes<R extends HeatRow>(
  codes: Uint8Array,
  rows: readonly R[],
  nowSec: number,
  staleAfterS: number,
  shown: ReadonlySet<R> | null = null,
): void {
  const n = Math.min(codes.length, rows.length);
  for (let i = 0; i < n; i++) codes[i] = rowCode(rows[i]!, nowSec, staleAfterS, shown);
}

/** The part of CanvasRenderingContext2D the painter uses (a test records it). */
export interface Paint2D {
  fillStyle: string | CanvasGradient | CanvasPattern;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  globalAlpha: number;
  lineWidth: number;
  clearRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  rect(x: number, y: number, w: number, h: number): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  fill(): void;
  stroke(): void;
}

/** How faint a cell hidden by the filter is drawn. */
export const DIM_ALPHA = 0.25;
/** Cells smaller than this (CSS px) get no stale stripe: it would cover them. */
const STRIPE_MIN_CELL = 6;

/**
 * Draws a grid of cells on a canvas and remembers what each position shows,
 * so a frame repaints only the cells whose code changed: at market open that
 * is the few dozen tickers that crossed a step of the scale, not all 1,000.
 * Positions, not tickers, are remembered, so a re-sort costs only the
 * cells that now show a different colour.
 *
 * Cells of one colour go into one path and one fill (a full redraw of
 * 10,000 cells is a dozen draw calls, not 10,000 rectangles for the
 * rasteriser), and a cell is cleared first only when its new paint does not
 * cover the old one (the hollow "no tick" ring, a faint filtered-out cell).
 */
export class HeatPainter {
  private painted = new Uint8Array(0);
  private dirtyAll = true;
  /** Changed positions grouped by code (reused between frames). */
  private readonly groups: number[][] = Array.from({ length: CODE_COUNT + CODE_DIM }, () => []);

  constructor(private readonly ctx: Paint2D) {}

  /** Forget what is drawn (new size, layout or palette): the next paint clears and redraws all. */
  invalidate(): void {
    this.dirtyAll = true;
  }

  /**
   * Brings the canvas up to date with codes (one per cell of l) at dpr
   * device pixels per CSS pixel; returns how many cells were drawn.
   */
  paint(l: GridLayout, dpr: number, codes: Uint8Array, pal: HeatPalette): number {
    const ctx = this.ctx;
    const n = Math.min(l.count, codes.length);
    const full = this.dirtyAll || this.painted.length !== n;
    if (full) {
      ctx.clearRect(0, 0, Math.ceil((l.width + 1) * dpr), Math.ceil((l.height + 1) * dpr));
      if (this.painted.length !== n) this.painted = new Uint8Array(n);
      this.painted.fill(255);
      this.dirtyAll = false;
    }
    const painted = this.painted;
    const groups = this.groups;
    let drawn = 0;
    for (let i = 0; i < n; i++) {
      const c = codes[i]!;
      if (painted[i] === c) continue;
      painted[i] = c;
      groups[c]!.push(i);
      drawn++;
    }
    if (drawn === 0) return 0;

    const ring = Math.max(1, Math.round(dpr));
    const stripes: number[] = [];
    // Device-pixel box of cell i, on whole pixels at any ratio.
    let x0 = 0;
    let y0 = 0;
    let w = 0;
    let h = 0;
    const place = (i: number): void => {
      const x = (i % l.cols) * l.pitch;
      const y = Math.floor(i / l.cols) * l.pitch;
      x0 = Math.round(x * dpr);
      y0 = Math.round(y * dpr);
      w = Math.round((x + l.cell) * dpr) - x0;
      h = Math.round((y + l.cell) * dpr) - y0;
    };
    for (let code = 0; code < groups.length; code++) {
      const cells = groups[code]!;
      if (cells.length === 0) continue;
      const dim = code >= CODE_DIM;
      const base = dim ? code - CODE_DIM : code;
      const hollow = base === CODE_NONE;
      const colour = pal.fill[base] ?? pal.bg;
      if (!full && (hollow || dim)) {
        for (const i of cells) {
          place(i);
          ctx.clearRect(x0, y0, w, h);
        }
      }
      ctx.globalAlpha = dim ? DIM_ALPHA : 1;
      ctx.beginPath();
      for (const i of cells) {
        place(i);
        // No tick yet: hollow, so it reads as "nothing here" in any theme
        // (a ring of whole device pixels: the path runs mid-line).
        if (hollow) ctx.rect(x0 + ring / 2, y0 + ring / 2, w - ring, h - ring);
        else ctx.rect(x0, y0, w, h);
        if (base === CODE_STALE && l.cell >= STRIPE_MIN_CELL) stripes.push(x0, y0 + h, x0 + w, y0);
      }
      if (hollow) {
        ctx.strokeStyle = colour;
        ctx.lineWidth = ring;
        ctx.stroke();
      } else {
        ctx.fillStyle = colour;
        ctx.fill();
      }
      cells.length = 0;
    }
    // Stale: struck through (one path for all of them), so "dead" does not
    // depend on telling two greys apart.
    if (stripes.length > 0) {
      ctx.globalAlpha = 1;
      ctx.strokeStyle = pal.bg;
      ctx.lineWidth = Math.max(1, Math.round(1.5 * dpr));
      ctx.beginPath();
      for (let k = 0; k < stripes.length; k += 4) {
        ctx.moveTo(stripes[k]!, stripes[k + 1]!);
        ctx.lineTo(stripes[k + 2]!, stripes[k + 3]!);
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    return drawn;
  }
}
