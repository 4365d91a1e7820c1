import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Lab } from '../src/main/core/lab';
import { Classifier } from '../src/main/core/models/classifier';
import { imageShapeFor } from '../src/main/core/models/resize';
import { averageTenCrops, tenCrops } from '../src/main/core/models/ten-crop';
import { HAS_SHARED, MODELS, SKIP_SHARED_REASON, foolJson, rng, tempDir } from './helpers';

describe('ten-crop fitness (--ten-crop)', () => {
  it("cuts Caffe's 10 crops: 4 corners, the centre, and their mirror images", () => {
    // One 4x3 grey image, pixel = 10 * y + x; crops of 2x2.
    const data = Uint8Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const b = tenCrops({ n: 1, width: 4, height: 3, channels: 1, data }, 2, 2);
    expect([b.n, b.width, b.height]).toEqual([10, 2, 2]);
    const crop = (k: number) => Array.from(b.data.subarray(k * 4, k * 4 + 4));
    expect(crop(0)).toEqual([0, 1, 10, 11]); // top left
    expect(crop(1)).toEqual([2, 3, 12, 13]); // top right
    expect(crop(2)).toEqual([10, 11, 20, 21]); // bottom left
    expect(crop(3)).toEqual([12, 13, 22, 23]); // bottom right
    expect(crop(4)).toEqual([1, 2, 11, 12]); // centre (floor)
    expect(crop(5)).toEqual([1, 0, 11, 10]); // mirrored top left
    expect(crop(9)).toEqual([2, 1, 12, 11]); // mirrored centre
  });

  it('fool evolve --ten-crop runs, and is kept with the run', async () => {
    const db = join(tempDir('fool-tencrop-'), 'lab.db');
    const r = await foolJson<{ runId: number; champions: { confidence: number }[] }>(['evolve', '--model', 'lenet-mnist', '--generations', '2', '--batch', '20', '--ten-crop', '--db', db]);
    expect(r.champions.length).toBeGreaterThan(0);
    const d = new Database(db, { readonly: true });
    const s = JSON.parse((d.prepare('SELECT settings FROM runs WHERE id = ?').get(r.runId) as { settings: string }).settings) as { tenCrop?: boolean };
    d.close();
    expect(s.tenCrop).toBe(true);
  });

  /**
   * The crops are cut in the classification workers; the scores must be those of the crops cut on
   * the main thread, classified and averaged (as before the move): ten-crop runs resume the same.
   */
  async function sameAsMainThread(lab: Lab, model: string, n: number): Promise<void> {
    const info = lab.models.get(model);
    const { width, height, channels } = imageShapeFor(info);
    const random = rng(7);
    const batch = { n, width, height, channels, data: Uint8Array.from({ length: n * width * height * channels }, () => Math.floor(random() * 256)) };
    const classifier = await Classifier.open(info, { workers: 2, maxBatch: 16 });
    try {
      const inWorkers = await classifier.classifyTenCrop({ ...batch, data: batch.data.slice() });
      const crops = tenCrops(batch, info.manifest.input.height, info.manifest.input.width);
      const onMain = averageTenCrops(await classifier.classify(crops), n, classifier.classes);
      expect(inWorkers.length).toBe(n * classifier.classes);
      expect(Buffer.from(inWorkers.buffer).equals(Buffer.from(onMain.buffer))).toBe(true);
      // not the centre crop alone: the crops do differ
      const centre = await classifier.classify(batch);
      expect(Buffer.from(centre.buffer).equals(Buffer.from(inWorkers.buffer))).toBe(false);
    } finally {
      await classifier.close();
    }
  }

  it('scores in the workers equal crops cut on the main thread (LeNet, 28x28)', async () => {
    const lab = new Lab(join(tempDir('fool-tencrop-'), 'lab.db'));
    try {
      await sameAsMainThread(lab, 'lenet-mnist', 23);
    } finally {
      lab.close();
    }
  });

  it.skipIf(!HAS_SHARED)(`scores in the workers equal crops cut on the main thread (SqueezeNet, 256 -> 227${HAS_SHARED ? '' : `; skipped: ${SKIP_SHARED_REASON}`})`, async () => {
    const lab = new Lab(join(tempDir('fool-tencrop-'), 'lab.db'));
    try {
      await lab.models.add(MODELS.squeezenet, { name: 'squeezenet', preset: 'caffe-imagenet', labels: MODELS.synsets });
      await sameAsMainThread(lab, 'squeezenet', 3);
    } finally {
      lab.close();
    }
  });
});
