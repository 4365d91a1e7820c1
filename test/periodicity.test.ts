import { describe, expect, it } from 'vitest';
import { detectPeriod } from '../src/main/core/analysis/periodicity';
import { rng } from './helpers';

/** A W x H picture from f(x, y) (pixel coordinates). */
function picture(w: number, h: number, f: (x: number, y: number) => number): Float64Array {
  const a = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = f(x, y);
  return a;
}

const within5 = (got: number, want: number) => expect(Math.abs(got - want) / want).toBeLessThan(0.05);

describe('periodicity detector', () => {
  // Periods chosen not to divide the image size: the estimate must be finer than one frequency bin.
  it.each([
    [256, 23],
    [256, 9.5],
    [256, 61],
    [227, 17],
    [28, 5],
    [28, 7.3],
  ])('finds the period of a sine (%i px image, period %f)', (size, period) => {
    const p = detectPeriod(picture(size, size, (x) => Math.sin((2 * Math.PI * x) / period + 0.4)), size, size);
    expect(p).not.toBeNull();
    within5(p!.period, period);
    expect(p!.kind).toBe('stripes');
    expect(p!.angle).toBeLessThan(10);
  });

  it('finds the period of a sine along y and of a diagonal wave', () => {
    const y = detectPeriod(picture(256, 256, (_x, y) => Math.sin((2 * Math.PI * y) / 14)), 256, 256)!;
    within5(y.period, 14);
    expect(Math.abs(y.angle - 90)).toBeLessThan(10);
    // A wave along (3, 4): period 20 px along its direction.
    const d = detectPeriod(picture(256, 256, (x, y) => Math.sin((2 * Math.PI * (0.6 * x + 0.8 * y)) / 20)), 256, 256)!;
    within5(d.period, 20);
    expect(d.kind).toBe('stripes');
  });

  it.each([
    [256, 19],
    [256, 32],
    [28, 6],
  ])('finds the period of hard-edged stripes (%i px, period %i)', (size, period) => {
    const p = detectPeriod(picture(size, size, (x) => ((x % period) < period / 2 ? 230 : 20)), size, size)!;
    expect(p).not.toBeNull();
    within5(p.period, period);
    expect(p.kind).toBe('stripes');
  });

  it.each([
    [256, 21],
    [64, 9],
  ])('finds the period of a grid (%i px, period %i) and calls it a grid', (size, period) => {
    const line = (t: number) => (t % period < 3 ? 1 : 0);
    const p = detectPeriod(picture(size, size, (x, y) => Math.max(line(x), line(y)) * 200 + 20), size, size)!;
    expect(p).not.toBeNull();
    within5(p.period, period);
    expect(p.kind).toBe('grid');
  });

  it.each([
    [256, 17],
    [256, 30],
    [227, 12],
  ])('finds the period of rings around the centre (%i px, period %i) and calls them rings', (size, period) => {
    const c = (size - 1) / 2;
    const p = detectPeriod(picture(size, size, (x, y) => Math.sin((2 * Math.PI * Math.hypot(x - c, y - c)) / period)), size, size)!;
    expect(p).not.toBeNull();
    within5(p.period, period);
    expect(p.kind).toBe('rings');
  });

  it('finds no period in noise, smooth blobs, ramps or a flat picture', () => {
    for (const [size, seed] of [
      [256, 1],
      [256, 2],
      [64, 3],
      [28, 4],
      [28, 5],
    ]) {
      const r = rng(seed);
      expect(detectPeriod(picture(size, size, () => r()), size, size)).toBeNull();
    }
    const c = 127.5;
    expect(detectPeriod(picture(256, 256, (x, y) => Math.exp(-((x - c) ** 2 + (y - c) ** 2) / 3000)), 256, 256)).toBeNull();
    expect(detectPeriod(picture(256, 256, (x, y) => x + 0.3 * y), 256, 256)).toBeNull();
    expect(detectPeriod(picture(28, 28, (x) => Math.tanh((x - 14) / 4)), 28, 28)).toBeNull();
    expect(detectPeriod(new Float64Array(64 * 64).fill(3), 64, 64)).toBeNull();
    // One period over the whole image is not a repetition.
    expect(detectPeriod(picture(256, 256, (x) => Math.sin((2 * Math.PI * x) / 256)), 256, 256)).toBeNull();
  });
});
