import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { permuteOutputs } from '../src/main/core/experiments/retrain';
import { fool, foolJson, tempDir } from './helpers';
import { addLetterModel } from './experiment-helpers';

interface Iteration {
  iteration: number;
  model: string;
  testAccuracy: number;
  foolingImages: number;
  runs: { runId: number; median: number; generationsTo9999: number | null }[];
  medianConfidence: number;
  medianByGeneration: number[];
}
interface Retrain {
  experimentId: number;
  done: boolean;
  iterations: Iteration[];
}

const TINY = ['--runs-per-iteration', '1', '--generations', '3', '--batch', '20', '--epochs', '1', '--train-limit', '2000', '--test-limit', '500'];

describe('fool retrain (MNIST) and fool dataset export', () => {
  const dir = tempDir('fool-retrain-');
  const db = join(dir, 'lab.db');

  it('runs the loop end to end: DNN_1 -> evolve -> DNN_2 (11 classes, fooling output dropped) -> evolve', async () => {
    const r = await foolJson<Retrain>(['retrain', '--iterations', '2', ...TINY, '--work-dir', join(dir, 'work'), '--db', db]);
    expect(r.done).toBe(true);
    expect(r.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    const [one, two] = r.iterations;
    expect(one.model).toBe('lenet-mnist');
    expect(one.testAccuracy).toBeCloseTo(0.9915, 3);
    expect(two.model).toBe(`retrain${r.experimentId}-dnn2`);
    expect(two.foolingImages).toBeGreaterThan(0);
    expect(two.testAccuracy).toBeGreaterThan(0.5); // 1 epoch on 2,000 images
    for (const it of r.iterations) {
      expect(it.runs).toHaveLength(1);
      expect(it.medianByGeneration).toHaveLength(4);
      expect(it.medianConfidence).toBeGreaterThan(0);
    }
    // DNN_2 is registered with the 10 digits (its fooling output is output 0, dropped).
    const models = await foolJson<{ models: { name: string; classes: number }[] }>(['models', 'list', '--db', db]);
    expect(models.models.find((m) => m.name === two.model)?.classes).toBe(10);
    const run2 = await foolJson<{ model: string }>(['runs', 'show', String(two.runs[0].runId), '--db', db]);
    expect(run2.model).toBe(two.model);

    const rep = await foolJson<{ files: string[] }>(['report', String(r.experimentId), '--out', join(dir, 'report'), '--db', db]);
    expect(rep.files).toContain('retrain-median.png');

    // The fooling images as a data set: ImageFolder + CSV.
    const out = join(dir, 'dataset');
    const ex = await foolJson<{ images: number; csv: string }>(['dataset', 'export', String(one.runs[0].runId), String(two.runs[0].runId), '--out', out, '--db', db]);
    const files = readdirSync(join(out, 'fooling')).filter((f) => f.endsWith('.png'));
    expect(files.length).toBe(ex.images);
    const lines = readFileSync(join(out, 'fooling.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('file,class,run,model,fooled_class,fooled_label,confidence,generation,individual,from');
    expect(lines.length).toBe(ex.images + 1);
    expect(new Set(lines.slice(1).map((l) => l.split(',').at(-1)))).toEqual(new Set(['first', 'last']));
    const meta = await sharp(join(out, lines[1].split(',')[0])).metadata();
    expect([meta.width, meta.height]).toEqual([28, 28]);

    // An exported data set seeds the fooling class of a new loop.
    const seeded = await foolJson<Retrain>(['retrain', '--iterations', '1', ...TINY, '--fooling-images', out, '--work-dir', join(dir, 'work2'), '--db', db]);
    expect(seeded.done).toBe(true);
  });

  it('refuses bad input before any work: images of the wrong size, a model without the digits', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toFile(join(bad, 'x.png'));
    const runsBefore = (await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db])).runs.length;
    const expBefore = (await foolJson<{ experiments: unknown[] }>(['experiments', 'list', '--db', db])).experiments.length;

    const size = await fool(['retrain', ...TINY, '--fooling-images', bad, '--db', db]);
    expect(size.stderr).toMatch(/32x32.*28x28/);
    expect(size.code).toBe(2);

    const letters = await addLetterModel(db, dir);
    const notDigits = await fool(['retrain', ...TINY, '--model', letters, '--db', db]);
    expect(notDigits.stderr).toMatch(/not an MNIST digit classifier/);
    expect(notDigits.code).toBe(2);

    const missing = await fool(['retrain', ...TINY, '--fooling-images', join(dir, 'nope'), '--db', db]);
    expect(missing.code).toBe(2);

    expect((await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db])).runs.length).toBe(runsBefore);
    expect((await foolJson<{ experiments: unknown[] }>(['experiments', 'list', '--db', db])).experiments.length).toBe(expBefore);
  });

  it('moves the fooling output first without changing any other weight', () => {
    const W = Float32Array.from({ length: 3 * 4 }, (_, i) => i);
    const b = Float32Array.from([10, 11, 12, 13]);
    const p = permuteOutputs(new Map([['ip2_W', W], ['ip2_b', b], ['ip1_b', b]]), [3, 0, 1, 2]);
    expect(Array.from(p.get('ip2_b')!)).toEqual([13, 10, 11, 12]);
    expect(Array.from(p.get('ip2_W')!.subarray(0, 4))).toEqual([3, 0, 1, 2]);
    expect(Array.from(p.get('ip2_W')!.subarray(8, 12))).toEqual([11, 8, 9, 10]);
    expect(p.get('ip1_b')).toBe(b);
  });
});
