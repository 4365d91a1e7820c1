import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Image } from '../src/main/core/models/image';
import { ablateRepeats, summarize } from '../src/main/core/experiments/ablation';
import { Lab } from '../src/main/core/lab';
import { foolJson, rng, tempDir } from './helpers';
import { evolveRun } from './experiment-helpers';

/** A 28x28 grey image: a flat dark field with one random 8x8 motif stamped at known places. */
function tiled(places: [number, number][], seed: number): Image {
  const r = rng(seed);
  const size = 28;
  const data = new Uint8Array(size * size).fill(20);
  const motif = Array.from({ length: 64 }, () => Math.round(r() * 255));
  for (const [x0, y0] of places) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[(y0 + y) * size + x0 + x] = motif[y * 8 + x];
  return { width: size, height: size, channels: 1, data };
}

describe('automatic repetition ablation', () => {
  it('on a synthetic tiled motif: finds the copies, removes all but one, computes the confidence change, with a random control', async () => {
    const places: [number, number][] = [[2, 2], [18, 2], [2, 18], [18, 18]];
    const img = tiled(places, 7);
    const a = ablateRepeats(img, 'black', rng(1));
    expect(a.copies.length).toBe(4);
    // Patch-aligned boxes: each lies mostly over one stamped copy.
    for (const c of a.copies) expect(places.some(([x, y]) => Math.abs(c.x - x) <= c.width / 2 && Math.abs(c.y - y) <= c.height / 2)).toBe(true);
    // One stamped copy is kept exactly; the other three are (mostly: the boxes are patch-aligned) blanked.
    const at = (x0: number, y0: number, d: Uint8Array) => Array.from({ length: 64 }, (_, i) => d[(y0 + (i >> 3)) * 28 + x0 + (i & 7)]);
    const intact = places.filter(([x, y]) => at(x, y, a.ablated!.data).every((v, i) => v === at(x, y, img.data)[i]));
    const blanked = places.filter(([x, y]) => at(x, y, a.ablated!.data).filter((v) => v === 0).length >= 0.75 * 64);
    expect(intact).toHaveLength(1);
    expect(blanked).toHaveLength(3);
    // The control blanks exactly as many pixels, elsewhere: every stamped copy keeps most of its pixels.
    expect(a.controlPixels).toBe(a.maskedPixels);
    expect(a.maskedPixels).toBeGreaterThanOrEqual(3 * 64);
    const changed = a.control!.data.reduce((n, v, i) => n + (v !== img.data[i] && img.data[i] !== 20 ? 1 : 0), 0);
    expect(changed).toBeLessThan(a.maskedPixels / 2);

    // Confidence change under the shipped LeNet.
    const lab = new Lab(join(tempDir('fool-ablate-'), 'lab.db'));
    const c = await lab.openClassifier('lenet-mnist', { workers: 1 });
    try {
      const probs = await c.classify({ n: 3, width: 28, height: 28, channels: 1, data: new Uint8Array([...img.data, ...a.ablated!.data, ...a.control!.data]) });
      let cls = 0;
      for (let k = 1; k < 10; k++) if (probs[k] > probs[cls]) cls = k;
      const s = summarize([{ class: cls, label: String(cls), individualId: 1, copies: 4, before: probs[cls], ablated: probs[10 + cls], control: probs[20 + cls], maskedPixels: a.maskedPixels, controlPixels: a.controlPixels }]);
      expect(s.withRepeats).toBe(1);
      expect(s.medianDrop).toBeCloseTo(probs[cls] - probs[10 + cls], 6);
      expect(s.controlMedianDrop).toBeCloseTo(probs[cls] - probs[20 + cls], 6);
    } finally {
      await c.close();
      lab.close();
    }
  });

  it('an image without repeats is left alone', () => {
    const img: Image = { width: 28, height: 28, channels: 1, data: new Uint8Array(784).fill(50) };
    const a = ablateRepeats(img, 'mean', rng(1));
    expect(a.copies).toEqual([]);
    expect(a.ablated).toBeNull();
  });

  it("fool ablate RUN: the summary over a CPPN run's champions with its random control, and its report", async () => {
    const dir = tempDir('fool-ablate-');
    const db = join(dir, 'lab.db');
    const runId = await evolveRun(db, '--model', 'lenet-mnist', '--encoding', 'cppn', '--seed', '5');
    interface Res {
      experimentId: number;
      images: { before: number; ablated: number | null; control: number | null; copies: number }[];
      summary: { champions: number; withRepeats: number; droppedShare: number; controlDroppedShare: number; medianDrop: number; controlMedianDrop: number };
    }
    const r = await foolJson<Res>(['ablate', String(runId), '--db', db]);
    expect(r.summary.champions).toBe(10);
    expect(r.summary.withRepeats).toBe(r.images.filter((i) => i.copies >= 2).length);
    for (const i of r.images) {
      expect((i.ablated === null) === (i.control === null)).toBe(true);
      expect(i.before).toBeGreaterThan(0);
    }
    if (r.summary.withRepeats > 0) {
      expect(Number.isFinite(r.summary.medianDrop)).toBe(true);
      expect(Number.isFinite(r.summary.controlMedianDrop)).toBe(true);
    }
    const again = await foolJson<Res>(['ablate', String(runId), '--db', db]);
    expect(again.images).toEqual(r.images);
    const rep = await foolJson<{ files: string[] }>(['report', String(r.experimentId), '--out', join(dir, 'report'), '--db', db]);
    expect(rep.files).toContain('ablation-drop.png');
  });
});
