import { describe, expect, it } from 'vitest';
import { ablate, boxesMask, detectMotifs } from '../src/main/core/analysis/motifs';
import type { Image } from '../src/main/core/models/image';
import { rng } from './helpers';

/** A flat (or lightly noisy) background with one random motif stamped at known places. */
function tiled(size: number, motif: number, at: [number, number][], channels: 1 | 3, seed: number, noise = 0, smooth = false): Image {
  const r = rng(seed);
  const data = new Uint8Array(size * size * channels);
  for (let i = 0; i < data.length; i++) data[i] = 100 + Math.round((r() - 0.5) * 2 * noise);
  // Random pixels, or (like a CPPN's output) a smooth random pattern: a few random waves.
  const waves = Array.from({ length: 4 * channels }, () => [r() * 0.5, r() * 0.5, r() * 6]);
  const pattern = Array.from({ length: motif * motif * channels }, (_, i) => {
    if (!smooth) return Math.round(r() * 255);
    const c = i % channels;
    const x = Math.floor(i / channels) % motif;
    const y = Math.floor(i / channels / motif);
    let v = 0;
    for (let k = 0; k < 4; k++) v += Math.sin(waves[c * 4 + k][0] * x + waves[c * 4 + k][1] * y + waves[c * 4 + k][2]);
    return Math.round(128 + 30 * v);
  });
  for (const [x0, y0] of at) {
    for (let y = 0; y < motif; y++) for (let x = 0; x < motif; x++) for (let c = 0; c < channels; c++) data[((y0 + y) * size + x0 + x) * channels + c] = pattern[(y * motif + x) * channels + c];
  }
  return { width: size, height: size, channels, data };
}

/** Area of the overlap of two boxes. */
const overlap = (a: { x: number; y: number; width: number; height: number }, x: number, y: number, size: number) =>
  Math.max(0, Math.min(a.x + a.width, x + size) - Math.max(a.x, x)) * Math.max(0, Math.min(a.y + a.height, y + size) - Math.max(a.y, y));

describe('repeated motif detection', () => {
  it('finds the copies of a motif tiled over a grey image', () => {
    const places: [number, number][] = [
      [4, 4], [24, 4], [44, 4],
      [4, 34], [24, 34], [44, 34],
    ];
    const img = tiled(64, 12, places, 1, 1, 3);
    const motifs = detectMotifs(img);
    expect(motifs.length).toBeGreaterThan(0);
    const best = motifs[0];
    expect(best.score).toBeGreaterThan(0.9);
    expect(best.copies.length).toBe(6);
    // Each copy sits at the same offset inside a known placement.
    const dx = best.copies[0].x - 4;
    const dy = best.copies[0].y - 4;
    for (const [x, y] of places) expect(best.copies.some((c) => c.x === x + dx && c.y === y + dy)).toBe(true);
  });

  it('finds a tiled motif in a large colour image (downsampled work image)', () => {
    const places: [number, number][] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) places.push([8 + x * 62, 8 + y * 62]);
    // 62 px apart: the copies do not line up with the 4x4 cells of the work image.
    const img = tiled(256, 48, places, 3, 2, 4, true);
    const t0 = performance.now();
    const motifs = detectMotifs(img);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(motifs.length).toBeGreaterThan(0);
    const best = motifs[0];
    expect(best.copies.length).toBeGreaterThanOrEqual(14);
    // Each copy lies mostly on its own stamped motif.
    const owners = best.copies.map((c) => places.findIndex(([x, y]) => overlap(c, x, y, 48) >= 0.7 * c.width * c.height));
    expect(owners).not.toContain(-1);
    expect(new Set(owners).size).toBe(owners.length);
  });

  it('finds nothing much in pure noise or a smooth gradient', () => {
    const r = rng(7);
    for (const size of [28, 64, 256]) {
      const noise: Image = { width: size, height: size, channels: 3, data: Uint8Array.from({ length: size * size * 3 }, () => Math.round(r() * 255)) };
      expect(detectMotifs(noise).length).toBeLessThanOrEqual(1);
    }
    const ramp: Image = { width: 64, height: 64, channels: 1, data: Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64) * 4) };
    expect(detectMotifs(ramp)).toEqual([]);
    const flat: Image = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).fill(90) };
    expect(detectMotifs(flat)).toEqual([]);
  });

  it('refuses an image whose bytes do not match its size', () => {
    expect(() => detectMotifs({ width: 10, height: 10, channels: 3, data: new Uint8Array(10) })).toThrow(/expected 10x10x3/);
  });
});

describe('ablation', () => {
  const img: Image = { width: 4, height: 2, channels: 3, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) };
  const mask = boxesMask(4, 2, [{ x: 1, y: 0, width: 2, height: 1 }]);

  it('replaces only the masked pixels, with the image mean, mid-grey or black', () => {
    expect([...mask]).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    const m = ablate(img, mask, 'mean');
    expect(m.maskedPixels).toBe(2);
    // Channel means: (0+30+...+210)/8 = 105, then 115, 125.
    expect([...m.image.data.slice(3, 9)]).toEqual([105, 115, 125, 105, 115, 125]);
    expect([...m.image.data.slice(0, 3)]).toEqual([0, 10, 20]);
    expect([...m.image.data.slice(9)]).toEqual([...img.data.slice(9)]);
    expect([...ablate(img, mask, 'grey').image.data.slice(3, 6)]).toEqual([128, 128, 128]);
    expect([...ablate(img, mask, 'black').image.data.slice(3, 6)]).toEqual([0, 0, 0]);
    // The input is not changed.
    expect(img.data[3]).toBe(30);
  });

  it('refuses a mask of the wrong size', () => {
    expect(() => ablate(img, new Uint8Array(5), 'mean')).toThrow(/mask holds 5 pixels/);
  });
});
