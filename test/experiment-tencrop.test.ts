import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tenCrops } from '../src/main/core/evolution/evaluator';
import { foolJson, tempDir } from './helpers';

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
});
