import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatClock,
  formatCompact,
  formatCount,
  formatDuration,
  formatPct,
  formatPrice,
  formatRate,
  formatRelative,
} from './format';

describe('formatPrice', () => {
  it.each<[number | null | undefined, string]>([
    [189.2, '189.20'],
    [0.12345, '0.1235'],
    [0, '0.00'],
    [1234.5, '1,234.50'],
    [1234567.891, '1,234,567.89'],
    [-3.5, '−3.50'],
    [null, '—'],
    [undefined, '—'],
    [Number.NaN, '—'],
    [Number.POSITIVE_INFINITY, '—'],
  ])('%s -> %s', (p, want) => expect(formatPrice(p)).toBe(want));
});

describe('formatPct', () => {
  it.each<[number | null | undefined, string]>([
    [0.42, '+0.42%'],
    [-1.2, '−1.20%'],
    [0, '0.00%'],
    [0.001, '0.00%'],
    [-0.001, '0.00%'],
    [12.345, '+12.35%'],
    [null, '—'],
  ])('%s -> %s', (x, want) => expect(formatPct(x)).toBe(want));
});

describe('formatCompact', () => {
  it.each<[number, string]>([
    [0, '0'],
    [950, '950'],
    [1500, '1.5K'],
    [1000, '1K'],
    [23_456, '23.5K'],
    [999_960, '1M'],
    [2_300_000, '2.3M'],
    [1_100_000_000, '1.1B'],
    [-1500, '−1.5K'],
    [2.5, '2.50'],
  ])('%s -> %s', (n, want) => expect(formatCompact(n)).toBe(want));
});

describe('formatCount / formatRate', () => {
  it('groups thousands', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(undefined)).toBe('—');
  });
  it.each<[number, string]>([
    [0, '0.0'],
    [25.34, '25.3'],
    [99.96, '100.0'],
    [150.4, '150'],
    [4999.6, '5,000'],
    [12_345, '12.3K'],
  ])('rate %s -> %s', (r, want) => expect(formatRate(r)).toBe(want));
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [-5, '0s'],
    [45.9, '45s'],
    [60, '1m 00s'],
    [192, '3m 12s'],
    [7500, '2h 05m'],
    [3 * 86400 + 4 * 3600 + 5, '3d 4h'],
  ])('%s -> %s', (s, want) => expect(formatDuration(s)).toBe(want));
});

describe('formatAge', () => {
  it.each<[number, string]>([
    [0.4, '0s'],
    [12, '12s'],
    [185, '3m'],
    [7300, '2h'],
    [200000, '2d'],
    [-3, '0s'],
  ])('%s -> %s', (s, want) => expect(formatAge(s)).toBe(want));
});

describe('formatRelative', () => {
  it('says never for a zero timestamp', () => expect(formatRelative(0, 100)).toBe('never'));
  it('says just now under a second', () => expect(formatRelative(99.5, 100)).toBe('just now'));
  it('says how long ago', () => expect(formatRelative(100, 112)).toBe('12s ago'));
  it('tolerates a clock ahead of ours', () => expect(formatRelative(105, 100)).toBe('just now'));
});

describe('formatClock', () => {
  it('renders HH:MM:SS, with milliseconds on request', () => {
    const d = new Date(2024, 0, 21, 9, 5, 7, 42);
    expect(formatClock(d.getTime() / 1000)).toBe('09:05:07');
    expect(formatClock(d.getTime() / 1000, true)).toBe('09:05:07.042');
  });
  it('renders a dash for 0', () => expect(formatClock(0)).toBe('—'));
});
