import { describe, expect, it } from 'vitest';
import { ablate, boxesMask, detectMotifs } from '../src/main/core/analysis/motifs';
import { keepOneCopy, randomControls } from '../src/main/core/analysis/copies';
import { Rng } from '../src/main/core/engine/rng';
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

describe('periodic textures as motifs', () => {
  const grey = (size: number, f: (x: number, y: number) => number): Image => {
    const data = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = Math.round(f(x, y));
    return { width: size, height: size, channels: 1, data };
  };

  it('finds plain vertical stripes (a "theater curtain") as bands one period wide', () => {
    const img = grey(256, (x) => 128 + 100 * Math.sin((2 * Math.PI * x) / 20));
    const ms = detectMotifs(img);
    const t = ms.find((m) => m.kind === 'stripes')!;
    expect(t).toBeDefined();
    expect(Math.abs(t.period! - 20) / 20).toBeLessThan(0.05);
    // 256 / 20 = 12.8 periods: 13 or 14 bands (partial ones at the edges), full height, covering the image once
    expect(t.copies.length).toBeGreaterThanOrEqual(13);
    for (const c of t.copies) expect(c.height).toBe(256);
    expect(t.copies.reduce((s, c) => s + c.width, 0)).toBe(256);
  });

  it('finds a grid as cells and rings as annuli; keep one copy removes all others', () => {
    const line = (t: number) => (t % 16 < 3 ? 1 : 0);
    const grid = detectMotifs(grey(128, (x, y) => 30 + 200 * Math.max(line(x), line(y)))).find((m) => m.kind === 'grid')!;
    expect(grid).toBeDefined();
    expect(grid.copies.length).toBeGreaterThanOrEqual(64);
    const c = 127.5;
    const img = grey(256, (x, y) => 128 + 100 * Math.sin((2 * Math.PI * Math.hypot(x - c, y - c)) / 24));
    const rings = detectMotifs(img).find((m) => m.kind === 'rings')!;
    expect(rings).toBeDefined();
    expect(rings.copies.every((b) => b.ring)).toBe(true);
    const k = keepOneCopy(img, rings, 'grey', 2);
    // the kept ring is untouched, everything else is grey
    const { inner, outer } = rings.copies[2].ring!;
    for (let i = 0; i < 256 * 256; i++) {
      const r = Math.round(Math.hypot((i % 256) - c, Math.floor(i / 256) - c));
      expect(k.mask[i]).toBe(r >= inner && r < outer ? 0 : 1);
    }
    expect(k.image.data.filter((v) => v === 128).length).toBeGreaterThanOrEqual(k.maskedPixels);
  });

  it('random control: the same area, away from the copies where it can be, reproducible by seed', () => {
    const places: [number, number][] = [
      [4, 4], [40, 4], [4, 40],
    ];
    const img = tiled(96, 14, places, 1, 3, 2);
    const m = detectMotifs(img, { textures: false })[0];
    const k = keepOneCopy(img, m, 'mean');
    const draw = (seed: number) => {
      const g = Rng.of(seed);
      return randomControls(img, k, 'mean', 5, () => g.float());
    };
    const a = draw(1);
    expect(a.masks.map((x) => Array.from(x))).toEqual(draw(1).masks.map((x) => Array.from(x)));
    expect(a.masks.map((x) => Array.from(x))).not.toEqual(draw(2).masks.map((x) => Array.from(x)));
    for (const mk of a.masks) {
      expect(mk.reduce((s, v) => s + v, 0)).toBe(k.maskedPixels);
      // the least overlap of a few tries: mostly away from the copies
      expect(mk.reduce((s, v, i) => s + (v && k.copiesMask[i] ? 1 : 0), 0)).toBeLessThan(0.25 * k.maskedPixels);
    }
  });
});
