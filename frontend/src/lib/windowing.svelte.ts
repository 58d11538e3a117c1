// Windowed rendering of a long list: which rows of a fixed row height are in
// (or near) the visible part of a scroll box. The arithmetic and the scroll
// and resize observation come from @tanstack/virtual-core; this wrapper only
// turns its change callback into reactive fields, so a table renders
// rows [start, end) plus spacers above and below, and its DOM stays the
// same size however many tickers a connection has.

import { untrack } from 'svelte';
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';

export interface WindowSlice {
  /** First rendered index (inclusive). */
  start: number;
  /** Last rendered index (exclusive). */
  end: number;
  /** Height of the spacer above the first rendered row (px). */
  padTop: number;
  /** Height of the spacer below the last rendered row (px). */
  padBottom: number;
}

/** The slice for count rows given the virtualizer's items (pure; tested). */
export function sliceOf(items: readonly { index: number }[], count: number, rowHeight: number): WindowSlice {
  if (items.length === 0 || count === 0) return { start: 0, end: 0, padTop: 0, padBottom: count * rowHeight };
  const start = items[0]!.index;
  const end = Math.min(count, items[items.length - 1]!.index + 1);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

export class WindowedRows {
  slice = $state.raw<WindowSlice>({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  private readonly v: Virtualizer<HTMLElement, Element>;
  private readonly opts: VirtualizerOptions<HTMLElement, Element>;
  private el: HTMLElement | null = null;

  constructor(
    readonly rowHeight: number,
    overscan = 8,
    /** Rows shown before the scroll box is measured (first paint, tests without layout). */
    initialRows = 20,
  ) {
    this.opts = {
      count: 0,
      getScrollElement: () => this.el,
      estimateSize: () => rowHeight,
      overscan,
      initialRect: { width: 0, height: initialRows * rowHeight },
      scrollToFn: elementScroll,
      // A box with no height yet (not laid out, display: none, a test
      // without layout) renders the initial rows rather than none.
      observeElementRect: (inst, cb) => observeElementRect(inst, (rect) => cb(rect.height > 0 ? rect : { width: rect.width, height: initialRows * rowHeight })),
      observeElementOffset,
      onChange: () => this.update(),
    };
    this.v = new Virtualizer(this.opts);
  }

  /** Observes el's scroll position and size; returns the cleanup. */
  attach(el: HTMLElement): () => void {
    this.el = el;
    const off = this.v._didMount();
    this.v._willUpdate();
    this.update();
    return () => {
      off();
      this.el = null;
    };
  }

  setCount(count: number): void {
    if (this.v.options.count === count) return;
    this.v.setOptions({ ...this.opts, count });
    this.v._willUpdate();
    this.update();
  }

  /** Scrolls so row index is visible (the overview's "jump to row"). */
  scrollTo(index: number): void {
    this.v.scrollToIndex(index, { align: 'center' });
  }

  private update(): void {
    const next = sliceOf(this.v.getVirtualItems(), this.v.options.count, this.rowHeight);
    // Untracked: attach() and setCount() run inside the components' effects,
    // which must not come to depend on the slice they write (a list whose
    // count changes several times a second re-ran its attach effect in a loop).
    const cur = untrack(() => this.slice);
    if (cur.start !== next.start || cur.end !== next.end || cur.padTop !== next.padTop || cur.padBottom !== next.padBottom) this.slice = next;
  }
}
