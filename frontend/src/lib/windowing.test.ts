import { describe, expect, it } from 'vitest';
import { sliceOf } from './windowing.svelte';

const items = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ index: from + i }));

describe('sliceOf', () => {
  it.each([
    { name: 'top of a long list', its: items(0, 28), count: 1000, want: { start: 0, end: 28, padTop: 0, padBottom: 972 * 24 } },
    { name: 'middle', its: items(400, 436), count: 1000, want: { start: 400, end: 436, padTop: 400 * 24, padBottom: 564 * 24 } },
    { name: 'bottom', its: items(972, 1000), count: 1000, want: { start: 972, end: 1000, padTop: 972 * 24, padBottom: 0 } },
    { name: 'stale items past a shrunk count', its: items(990, 1000), count: 995, want: { start: 990, end: 995, padTop: 990 * 24, padBottom: 0 } },
    { name: 'nothing measured yet', its: [], count: 10, want: { start: 0, end: 0, padTop: 0, padBottom: 240 } },
    { name: 'empty list', its: [], count: 0, want: { start: 0, end: 0, padTop: 0, padBottom: 0 } },
  ])('$name', ({ its, count, want }) => {
    expect(sliceOf(its, count, 24)).toEqual(want);
  });
});
