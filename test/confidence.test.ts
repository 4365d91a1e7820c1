import { describe, expect, it } from 'vitest';
import { formatConfidence, fromNines, nines, ninesLabel } from '../src/shared/confidence';

/** Thresholds the paper reports against; nothing below one may print as it. */
const THRESHOLDS = [0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999];

describe('formatConfidence: one confidence formatter', () => {
  it('never prints 0.99989 as 99.99%', () => {
    expect(formatConfidence(0.99989)).toBe('99.989%');
    expect(formatConfidence(0.99989)).not.toBe('99.99%');
    // Nor its float32 form, as the classifier stores it.
    expect(formatConfidence(Math.fround(0.99989))).toBe('99.989%');
  });

  it('tells 99.99% from 99.9999% with enough digits', () => {
    expect(formatConfidence(0.9999)).toBe('99.99%');
    expect(formatConfidence(0.999987)).toBe('99.9987%');
    expect(formatConfidence(0.999999)).toBe('99.9999%');
    const shown = [0.99, 0.999, 0.9999, 0.99999, 0.999999, 0.9999999].map(formatConfidence);
    expect(new Set(shown).size).toBe(shown.length);
  });

  it('writes the distance to 1 above 99.9999%, rounded so that p is never overstated', () => {
    expect(formatConfidence(1 - 1.3e-7)).toBe('1 - 1.3e-7');
    expect(formatConfidence(1 - 1.25e-7)).toBe('1 - 1.3e-7');
    expect(formatConfidence(1 - 9.99e-8)).toBe('1 - 1.0e-7');
    expect(formatConfidence(1)).toBe('100%');
  });

  it('keeps ordinary values at two decimals, floored', () => {
    expect(formatConfidence(0.5)).toBe('50.00%');
    expect(formatConfidence(0.29)).toBe('29.00%');
    expect(formatConfidence(0.87316)).toBe('87.31%');
    expect(formatConfidence(0.98999)).toBe('98.99%');
    expect(formatConfidence(0)).toBe('0.00%');
    // A runner-up's small probability is not shown as nothing.
    expect(formatConfidence(3e-5)).toBe('<0.01%');
    expect(formatConfidence(1e-4)).toBe('0.01%');
    expect(formatConfidence(null)).toBe('-');
    expect(formatConfidence(Number.NaN)).toBe('-');
  });

  it('never rounds a value just below a threshold up to it (doubles and float32)', () => {
    for (const t of THRESHOLDS) {
      const below = [t - 1e-12, t - 1e-9, Math.fround(t) < t ? Math.fround(t) : Math.fround(t) - 2 ** -24];
      for (const p of below) {
        const s = formatConfidence(p);
        expect(s, `${p} printed as ${s}`).not.toBe(formatConfidence(t));
      }
    }
  });
});

describe('nines: the log-odds axis', () => {
  it('puts 0.99, 0.9999 and 0.999999 two units apart', () => {
    expect(nines(0.99)).toBeCloseTo(2, 9);
    expect(nines(0.9999)).toBeCloseTo(4, 9);
    expect(nines(0.999999)).toBeCloseTo(6, 6);
    expect(nines(1)).toBe(8);
    expect(fromNines(2)).toBeCloseTo(0.99, 12);
  });

  it('labels whole numbers of nines as the paper does', () => {
    expect([1, 2, 3, 4, 5].map(ninesLabel)).toEqual(['90%', '99%', '99.9%', '99.99%', '99.999%']);
    expect(ninesLabel(0)).toBe('0%');
  });
});
