import { FoolError } from '../../../shared/errors';
import type { Image } from '../models/image';
import { detectPeriod } from './periodicity';

/**
 * Repeated motifs in an image, and their ablation. The paper notes that CPPN images often repeat
 * one element many times and that removing copies lowers the confidence: repetition helps. This
 * module is pure (pixels in, boxes or pixels out) so the app's ablation tool and an automatic
 * ablation experiment can share it.
 *
 * Detection is normalised cross-correlation (NCC) template matching: structured candidate patches
 * at a few scales are matched against the whole (downsampled) grey image, and every other place
 * where a patch matches almost exactly (NCC >= threshold, copies not overlapping) is a copy.
 * Periodic textures (stripes, grids, rings) defeat template matching (a patch of stripes matches
 * itself shifted along them, so it is no candidate): they are found from the image's spectrum
 * (analysis/periodicity) and cut into copies one period wide.
 */


export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  /** A ring's copy: only the pixels of the box between these radii around (cx, cy). */
  ring?: { cx: number; cy: number; inner: number; outer: number };
}

export type MotifKind = 'copies' | 'stripes' | 'grid' | 'rings';

export interface MotifGroup {
  /** Bounding boxes of the copies of one pattern, in the image's pixels. */
  copies: Box[];
  /** Mean NCC of the copies with the pattern (0..1); for a texture, its spectral strength. */
  score: number;
  /** Discrete copies (template matching) or a periodic texture. */
  kind: MotifKind;
  /** A texture's period in pixels. */
  period?: number;
}

export interface MotifOptions {
  /** Smallest NCC that counts as a copy. */
  threshold?: number;
  /** Most groups returned. */
  maxMotifs?: number;
  /** Longest side of the working image; larger images are box-averaged down (speed). */
  workSize?: number;
  /** Candidate patches tried per scale. */
  candidatesPerScale?: number;
  /** Also report a periodic texture (stripes, grid, rings) as a motif (default true). */
  textures?: boolean;
}

/** ITU-R 601 luma as float, then box-averaged by an integer factor. */
function greyDown(img: Image, f: number): { g: Float64Array; w: number; h: number } {
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const g = new Float64Array(w * h);
  const C = img.channels;
  const d = img.data;
  for (let y = 0; y < h * f; y++) {
    for (let x = 0; x < w * f; x++) {
      const s = (y * img.width + x) * C;
      const v = C === 1 ? d[s] : 0.299 * d[s] + 0.587 * d[s + 1] + 0.114 * d[s + 2];
      g[Math.floor(y / f) * w + Math.floor(x / f)] += v;
    }
  }
  const inv = 1 / (f * f);
  for (let i = 0; i < g.length; i++) g[i] *= inv;
  return { g, w, h };
}

/** Summed-area tables of g and g^2, (w+1) x (h+1), for O(1) window means and variances. */
function integrals(g: Float64Array, w: number, h: number): { s: Float64Array; s2: Float64Array } {
  const W = w + 1;
  const s = new Float64Array(W * (h + 1));
  const s2 = new Float64Array(W * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    let row2 = 0;
    for (let x = 0; x < w; x++) {
      const v = g[y * w + x];
      row += v;
      row2 += v * v;
      s[(y + 1) * W + x + 1] = s[y * W + x + 1] + row;
      s2[(y + 1) * W + x + 1] = s2[y * W + x + 1] + row2;
    }
  }
  return { s, s2 };
}

function windowSum(t: Float64Array, W: number, x: number, y: number, p: number): number {
  return t[(y + p) * W + x + p] - t[y * W + x + p] - t[(y + p) * W + x] + t[y * W + x];
}

/** NCC of the p x p window at (ax, ay) with the one at (bx, by). */
function ncc(g: Float64Array, w: number, ax: number, ay: number, bx: number, by: number, p: number): number {
  let sa = 0;
  let sb = 0;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < p; i++) {
      const a = g[(ay + j) * w + ax + i];
      const b = g[(by + j) * w + bx + i];
      sa += a;
      sb += b;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
  }
  const n = p * p;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  return va > 1e-9 && vb > 1e-9 ? (sab - (sa * sb) / n) / Math.sqrt(va * vb) : 0;
}

/** A group of copies of the patch at (tx, ty), p x p (work pixels, then full pixels after refine). */
interface Found {
  p: number;
  copies: { x: number; y: number; r: number }[];
  tx: number;
  ty: number;
}

/** Every place where the template at (tx, ty) matches, best first, copies not overlapping. */
function matchTemplate(g: Float64Array, w: number, h: number, ii: { s: Float64Array; s2: Float64Array }, tx: number, ty: number, p: number, threshold: number, minStd: number): Found['copies'] {
  const n = p * p;
  // Zero-mean template: the numerator needs no image mean then.
  const t = new Float64Array(n);
  let mean = 0;
  for (let j = 0; j < p; j++) for (let i = 0; i < p; i++) mean += g[(ty + j) * w + tx + i];
  mean /= n;
  let tn = 0;
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < p; i++) {
      const v = g[(ty + j) * w + tx + i] - mean;
      t[j * p + i] = v;
      tn += v * v;
    }
  }
  tn = Math.sqrt(tn);
  const W = w + 1;
  const hits: { x: number; y: number; r: number }[] = [];
  const minVar = minStd * minStd * n;
  for (let y = 0; y + p <= h; y++) {
    for (let x = 0; x + p <= w; x++) {
      const sum = windowSum(ii.s, W, x, y, p);
      const v = windowSum(ii.s2, W, x, y, p) - (sum * sum) / n;
      // Flat windows match nothing (their NCC is undefined); this also skips most of a blank background.
      if (v < minVar) continue;
      let num = 0;
      for (let j = 0; j < p; j++) {
        const row = (y + j) * w + x;
        const trow = j * p;
        for (let i = 0; i < p; i++) num += t[trow + i] * g[row + i];
      }
      const r = num / (tn * Math.sqrt(v));
      if (r >= threshold) hits.push({ x, y, r });
    }
  }
  // Greedy non-maximum suppression: a copy may not overlap a better one.
  hits.sort((a, b) => b.r - a.r);
  const kept: typeof hits = [];
  for (const hit of hits) {
    if (kept.every((k) => Math.abs(k.x - hit.x) >= p || Math.abs(k.y - hit.y) >= p)) kept.push(hit);
    if (kept.length >= 256) break;
  }
  return kept;
}

/**
 * Groups of copies of the same pattern, strongest first. Pure noise and smooth gradients give
 * (almost) nothing: candidates must have contrast and structure at their own scale.
 */
export function detectMotifs(img: Image, opts: MotifOptions = {}): MotifGroup[] {
  checkImage(img);
  const threshold = opts.threshold ?? 0.9;
  const maxMotifs = opts.maxMotifs ?? 8;
  const workSize = opts.workSize ?? 64;
  const perScale = opts.candidatesPerScale ?? 24;
  const f = Math.max(1, Math.ceil(Math.max(img.width, img.height) / workSize));
  const { g, w, h } = greyDown(img, f);
  const side = Math.min(w, h);
  if (side < 8) return [];
  const ii = integrals(g, w, h);
  const W = w + 1;
  // Contrast floor: a few grey levels, so sensor-like noise on a flat field is not a "pattern".
  const minStd = 4;
  // On a downsampled work image a copy that sits between two cells blurs differently from the
  // template: match loosely there, then confirm each copy at full resolution (refine below).
  const coarse = f > 1 ? threshold - 0.15 : threshold;
  const sizes = [...new Set([Math.round(side / 8), Math.round(side / 5), Math.round(side / 3.5)].map((p) => Math.max(4, p)))];
  let found: Found[] = [];
  for (const p of sizes) {
    const stride = Math.max(1, Math.floor(p / 2));
    const shift = Math.max(1, Math.round(p / 4));
    const cands: { x: number; y: number; std: number }[] = [];
    for (let y = 0; y + p <= h; y += stride) {
      for (let x = 0; x + p <= w; x += stride) {
        const sum = windowSum(ii.s, W, x, y, p);
        const std = Math.sqrt(Math.max(0, windowSum(ii.s2, W, x, y, p) / (p * p) - (sum / (p * p)) ** 2));
        if (std < minStd) continue;
        // Structure at this scale: a patch that still matches itself shifted by a quarter of its
        // size (a smooth ramp, or stripes along the shift) would "repeat" everywhere; skip it.
        const sx = x + shift + p <= w ? ncc(g, w, x, y, x + shift, y, p) : x - shift >= 0 ? ncc(g, w, x, y, x - shift, y, p) : 1;
        const sy = y + shift + p <= h ? ncc(g, w, x, y, x, y + shift, p) : y - shift >= 0 ? ncc(g, w, x, y, x, y - shift, p) : 1;
        if (Math.max(sx, sy) > 0.8) continue;
        cands.push({ x, y, std });
      }
    }
    cands.sort((a, b) => b.std - a.std);
    for (const c of cands.slice(0, perScale)) {
      const copies = matchTemplate(g, w, h, ii, c.x, c.y, p, coarse, minStd);
      if (copies.length >= 2) found.push({ p, copies, tx: c.x, ty: c.y });
    }
  }
  // Strongest groups first (more copies, better matches, larger patterns).
  const strength = (m: Found) => (m.copies.length - 1) * mean(m.copies.map((c) => c.r)) * m.p * m.p;
  found.sort((a, b) => strength(b) - strength(a));
  // Everything from here is in full-resolution pixels.
  if (f > 1) {
    const full = greyDown(img, 1).g;
    found = found.slice(0, 4 * maxMotifs).map((m) => refine(full, img.width, img.height, m, f, threshold));
    found = found.filter((m) => m.copies.length >= 2);
    found.sort((a, b) => strength(b) - strength(a));
  }
  // A group mostly covering what a stronger one already covers is the same motif seen again.
  const covered = new Uint8Array(img.width * img.height);
  const out: MotifGroup[] = [];
  for (const m of found) {
    if (out.length >= maxMotifs) break;
    const boxes = m.copies.map((c) => ({ x: c.x, y: c.y, width: m.p, height: m.p }));
    const mask = boxesMask(img.width, img.height, boxes);
    let inside = 0;
    let total = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      total++;
      inside += covered[i];
      covered[i] = 1;
    }
    if (inside > total * 0.5) continue;
    out.push({ copies: boxes.sort((a, b) => a.y - b.y || a.x - b.x), score: Math.min(1, mean(m.copies.map((c) => c.r))), kind: 'copies' });
  }
  if (opts.textures !== false) {
    const t = detectTexture(img);
    if (t) out.push(t);
  }
  return out;
}

/** Where along a profile one period starts: at its darkest point, so a copy is dark-bright-dark. */
function phase(profile: Float64Array, period: number): number {
  let best = 0;
  for (let i = 1; i < Math.min(profile.length, Math.ceil(period)); i++) if (profile[i] < profile[best]) best = i;
  return best;
}

/** Intervals of one period covering [0, n), the first starting at `start` (partial ones at the ends clipped). */
function periods(n: number, start: number, period: number): [number, number][] {
  const out: [number, number][] = [];
  let a = start - period * Math.ceil(start / period);
  while (a < n) {
    const lo = Math.max(0, Math.round(a));
    const hi = Math.min(n, Math.round(a + period));
    if (hi > lo) out.push([lo, hi]);
    a += period;
  }
  return out;
}

/**
 * A periodic texture of the image as a motif: axis-aligned stripes as bands one period wide, a grid
 * as cells, rings around the centre (where a CPPN's d input is 0) as annuli. Diagonal stripes are
 * not cut into copies (no box holds one). Null when the image does not repeat.
 */
export function detectTexture(img: Image): MotifGroup | null {
  checkImage(img);
  const { g, w, h } = greyDown(img, 1);
  const p = detectPeriod(g, w, h);
  if (!p) return null;
  const P = p.period;
  const cols = new Float64Array(w);
  const rows = new Float64Array(h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      cols[x] += g[y * w + x] / h;
      rows[y] += g[y * w + x] / w;
    }
  }
  const near = (a: number, b: number) => Math.min(Math.abs(a - b), 180 - Math.abs(a - b)) <= 10;
  let copies: Box[];
  if (p.kind === 'stripes' && near(p.angle, 0)) {
    copies = periods(w, phase(cols, P), P).map(([a, b]) => ({ x: a, y: 0, width: b - a, height: h }));
  } else if (p.kind === 'stripes' && near(p.angle, 90)) {
    copies = periods(h, phase(rows, P), P).map(([a, b]) => ({ x: 0, y: a, width: w, height: b - a }));
  } else if (p.kind === 'grid' && (near(p.angle, 0) || near(p.angle, 90))) {
    const xs = periods(w, phase(cols, P), P);
    const ys = periods(h, phase(rows, P), P);
    copies = ys.flatMap(([y0, y1]) => xs.map(([x0, x1]) => ({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 })));
  } else if (p.kind === 'rings') {
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    const maxR = Math.ceil(Math.hypot(cx, cy)) + 1;
    const radial = new Float64Array(maxR + 1);
    const n = new Float64Array(maxR + 1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const r = Math.round(Math.hypot(x - cx, y - cy));
        radial[r] += g[y * w + x];
        n[r]++;
      }
    }
    for (let r = 0; r <= maxR; r++) radial[r] /= Math.max(1, n[r]);
    copies = periods(maxR, phase(radial, P), P).map(([inner, outer]) => {
      const x = Math.max(0, Math.floor(cx - outer));
      const y = Math.max(0, Math.floor(cy - outer));
      return { x, y, width: Math.min(w, Math.ceil(cx + outer) + 1) - x, height: Math.min(h, Math.ceil(cy + outer) + 1) - y, ring: { cx, cy, inner, outer } };
    });
  } else {
    return null;
  }
  return copies.length >= 2 ? { copies, score: p.strength, kind: p.kind, period: P } : null;
}

/**
 * A coarse group at full resolution: each copy is looked for within one work cell of where the
 * work image put it, and kept if it matches the full-resolution template well enough.
 */
function refine(G: Float64Array, W: number, H: number, m: Found, f: number, threshold: number): Found {
  const P = m.p * f;
  const tx = m.tx * f;
  const ty = m.ty * f;
  const copies: Found['copies'] = [];
  for (const c of m.copies) {
    let best = { x: c.x * f, y: c.y * f, r: -1 };
    for (let y = Math.max(0, c.y * f - f); y <= Math.min(H - P, c.y * f + f); y++) {
      for (let x = Math.max(0, c.x * f - f); x <= Math.min(W - P, c.x * f + f); x++) {
        const r = x === tx && y === ty ? 1 : ncc(G, W, tx, ty, x, y, P);
        if (r > best.r) best = { x, y, r };
      }
    }
    if (best.r >= threshold && copies.every((k) => Math.abs(k.x - best.x) >= P || Math.abs(k.y - best.y) >= P)) copies.push(best);
  }
  return { p: P, copies, tx, ty };
}

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

function checkImage(img: Image): void {
  if (img.data.length !== img.width * img.height * img.channels) {
    throw new FoolError('BAD_INPUT', `image data holds ${img.data.length} bytes, expected ${img.width}x${img.height}x${img.channels}`);
  }
}

/** A one-byte-per-pixel mask (1 = inside) of the given boxes (rings: their annulus), clipped to the image. */
export function boxesMask(width: number, height: number, boxes: Box[]): Uint8Array {
  const m = new Uint8Array(width * height);
  for (const b of boxes) {
    const x0 = Math.max(0, b.x);
    const x1 = Math.min(width, b.x + b.width);
    for (let y = Math.max(0, b.y); y < Math.min(height, b.y + b.height); y++) {
      if (x1 <= x0) continue;
      if (!b.ring) {
        m.fill(1, y * width + x0, y * width + x1);
        continue;
      }
      const { cx, cy, inner, outer } = b.ring;
      for (let x = x0; x < x1; x++) {
        const r = Math.round(Math.hypot(x - cx, y - cy));
        if (r >= inner && r < outer) m[y * width + x] = 1;
      }
    }
  }
  return m;
}

export type Fill = 'mean' | 'grey' | 'black';

/**
 * The image with the masked pixels replaced by a neutral fill: the image's own mean colour (least
 * new information), mid-grey or black. mask: one byte per pixel, non-zero = replace.
 */
export function ablate(img: Image, mask: Uint8Array, fill: Fill): { image: Image; maskedPixels: number } {
  checkImage(img);
  const n = img.width * img.height;
  if (mask.length !== n) throw new FoolError('BAD_INPUT', `the mask holds ${mask.length} pixels but the image has ${img.width}x${img.height} = ${n}`, 'Send one byte per pixel');
  const C = img.channels;
  const value = new Array<number>(C);
  for (let ch = 0; ch < C; ch++) {
    if (fill === 'grey') value[ch] = 128;
    else if (fill === 'black') value[ch] = 0;
    else {
      let s = 0;
      for (let i = 0; i < n; i++) s += img.data[i * C + ch];
      value[ch] = Math.round(s / n);
    }
  }
  const data = img.data.slice();
  let masked = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    masked++;
    for (let ch = 0; ch < C; ch++) data[i * C + ch] = value[ch];
  }
  return { image: { width: img.width, height: img.height, channels: C, data }, maskedPixels: masked };
}
