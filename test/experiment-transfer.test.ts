import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsFor, trainLenetFile } from '../src/main/core/train/trainer';
import type { TransferResult } from '../src/main/core/experiments/transfer';
import { fool, foolJson, tempDir } from './helpers';
import { addLetterModel, evolve, evolveRun, type EvolveResult } from './experiment-helpers';

type Transfer = TransferResult & { experimentId: number };

describe('fool transfer (real models, real database)', () => {
  const dir = tempDir('fool-transfer-');
  const db = join(dir, 'lab.db');
  let runs: number[] = [];
  let evolved: EvolveResult[] = [];

  beforeAll(async () => {
    evolved = [await evolve(db, '--model', 'lenet-mnist', '--seed', '1'), await evolve(db, '--model', 'lenet-mnist', '--seed', '2', '--encoding', 'direct')];
    runs = evolved.map((e) => e.runId);
    // A second LeNet, seed 2: 1 epoch on 6,000 images keeps the test short (~97% accuracy).
    await trainLenetFile(settingsFor('sgd', 2, 1, { trainLimit: 6000 }), { out: join(dir, 'lenet-s2.onnx'), testLimit: 1000 });
    await foolJson(['models', 'add', join(dir, 'lenet-s2.onnx'), '--name', 'lenet-s2', '--preset', 'mnist', '--db', db]);
  });

  it('classifies every champion under each model; the source model itself transfers 100%', async () => {
    const r = await foolJson<Transfer>(['transfer', '--runs', runs.join(','), '--models', 'lenet-s2', '--db', db]);
    expect(r.sources).toEqual(['lenet-mnist']);
    expect(r.targets).toEqual(['lenet-mnist', 'lenet-s2']);
    expect(r.images).toHaveLength(20);
    // Sanity: re-classified under its own model, every champion keeps its stored confidence.
    const stored = new Map<string, number>();
    for (const e of evolved) for (const c of e.champions) stored.set(`${e.runId}:${c.class}`, c.confidence);
    for (const im of r.images) {
      expect(im.confidence['lenet-mnist']).toBeCloseTo(stored.get(`${im.runId}:${im.class}`)!, 5);
      expect(im.confidence['lenet-s2']).toBeGreaterThanOrEqual(0);
      expect(im.confidence['lenet-s2']).toBeLessThanOrEqual(1);
    }
    const self = r.pairs.find((p) => p.target === 'lenet-mnist')!;
    if (self.at9999GivenSource !== null) expect(self.at9999GivenSource).toBe(1);
    const other = r.pairs.find((p) => p.target === 'lenet-s2')!;
    expect(other.images).toBe(20);
    expect(other.median).toBeGreaterThanOrEqual(0);
    const conf = r.images.map((im) => im.confidence['lenet-s2']);
    expect(other.at99).toBeCloseTo(conf.filter((c) => c >= 0.99).length / 20, 10);

    // The report: tables, the matrix as a heat map, histograms.
    const rep = await foolJson<{ files: string[] }>(['report', String(r.experimentId), '--out', join(dir, 'report'), '--db', db]);
    expect(rep.files).toEqual(expect.arrayContaining(['index.html', 'transfer-matrix.png', 'transfer-histogram.png', 'result.json']));
  });

  it('refuses runs of different label sets, and a model without the runs\' classes, before any work', async () => {
    const letters = await addLetterModel(db, dir);
    const other = await evolveRun(db, '--model', letters, '--seed', '3');
    const before = (await foolJson<{ experiments: unknown[] }>(['experiments', 'list', '--db', db])).experiments.length;
    const mixed = await fool(['transfer', '--runs', `${runs[0]},${other}`, '--models', 'lenet-s2', '--db', db]);
    expect(mixed.stderr).toMatch(/different label sets/);
    expect(mixed.code).toBe(2);
    const noClasses = await fool(['transfer', '--runs', runs.join(','), '--models', letters, '--db', db]);
    expect(noClasses.stderr).toMatch(/does not have run \d+'s classes/);
    expect(noClasses.code).toBe(2);
    const unknown = await fool(['transfer', '--runs', runs.join(','), '--models', 'no-such-model', '--db', db]);
    expect(unknown.code).toBe(2);
    expect((await foolJson<{ experiments: unknown[] }>(['experiments', 'list', '--db', db])).experiments.length).toBe(before);
  });
});
