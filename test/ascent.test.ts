import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { fool, foolJson, HAS_SHARED, MODELS, tempDir } from './helpers';

interface AscentResult {
  runId: number;
  results: { class: number; label: string; confidence: number; steps: number; stepsTo: Record<string, number | null> }[];
}

describe('fool ascent: fooling images by gradient ascent', () => {
  let db: string;
  beforeAll(() => {
    db = join(tempDir(), 'lab.db');
  });

  it('reaches 99.99% for all 10 digits on the shipped LeNet within 300 steps, and stores images and traces', async () => {
    const r = await foolJson<AscentResult>(['ascent', '--model', 'lenet-mnist', '--classes', '0-9', '--seed', '1', '--db', db]);
    expect(r.results.map((x) => x.class)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const x of r.results) {
      // The confidence is the model's on the stored 8-bit image, not on the float iterate.
      expect(x.confidence, `digit ${x.class}`).toBeGreaterThanOrEqual(0.9999);
      expect(x.steps).toBeLessThanOrEqual(300);
      expect(x.stepsTo['0.99']).not.toBeNull();
      expect(x.stepsTo['0.99']!).toBeLessThanOrEqual(x.stepsTo['0.9999'] ?? Infinity);
    }
    // In the database beside evolved images: a run of its own kind, one champion per class, traces kept.
    const d = new Database(db, { readonly: true });
    const run = d.prepare('SELECT kind, encoding, status FROM runs WHERE id = ?').get(r.runId);
    expect(run).toEqual({ kind: 'ascent', encoding: 'gradient', status: 'finished' });
    const rows = d.prepare('SELECT i.genome, i.extra, c.confidence FROM champions c JOIN individuals i ON i.run_id = c.run_id AND i.id = c.individual_id WHERE c.run_id = ? ORDER BY c.class').all(r.runId) as { genome: Buffer; extra: string; confidence: number }[];
    d.close();
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      expect(row.genome.length).toBe(28 * 28);
      const extra = JSON.parse(row.extra) as { trace: number[] };
      expect(extra.trace.length).toBeGreaterThan(1);
      expect(extra.trace.at(-1)).toBeGreaterThanOrEqual(0.9999 - 1e-3);
    }
    // Exported like any run.
    const out = join(tempDir(), 'gallery');
    const e = await foolJson<{ champions: number }>(['export', String(r.runId), '--out', out, '--db', db]);
    expect(e.champions).toBe(10);
  });

  it('counts an ascent of a few classes out of those classes in runs list, not out of the model\'s', async () => {
    const few = join(tempDir(), 'lab.db');
    await foolJson(['ascent', '--model', 'lenet-mnist', '--classes', '3,7', '--steps', '3', '--db', few]);
    const { runs } = await foolJson<{ runs: { kind: string; classes: number; aimed: number; at9999: number }[] }>(['runs', 'list', '--db', few]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: 'ascent', classes: 10, aimed: 2 });
    const text = await fool(['runs', 'list', '--db', few]);
    expect(text.stdout).toContain(`${runs[0].at9999}/2`);
  });

  it('refuses a class out of range and bad settings before any work', async () => {
    for (const [args, pattern] of [
      [['--classes', '3,12'], /class 12 is out of range: the model has 10 classes/],
      [['--classes', 'seven'], /cannot read the class list "seven"/],
      [['--steps', '0'], /--steps must be a whole number from 1/],
      [['--target', '1.5'], /--target must be a number above 0/],
    ] as [string[], RegExp][]) {
      const r = await fool(['ascent', '--model', 'lenet-mnist', ...args, '--db', db]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });
});

describe.skipIf(!HAS_SHARED)('fool ascent on SqueezeNet (the ImageNet stand-in)', () => {
  it('reaches 99.99% for at least 18 of 20 random classes within 300 steps', async () => {
    const db = join(tempDir(), 'lab.db');
    const add = await fool(['models', 'add', MODELS.squeezenet, '--name', 'squeezenet', '--preset', 'caffe-imagenet', '--labels', MODELS.synsets, '--db', db]);
    expect(add.code, add.stderr).toBe(0);
    const r = await foolJson<AscentResult>(['ascent', '--model', 'squeezenet', '--classes', 'random:20', '--seed', '1', '--db', db]);
    expect(r.results).toHaveLength(20);
    const reached = r.results.filter((x) => x.confidence >= 0.9999 && x.steps <= 300);
    expect(reached.length).toBeGreaterThanOrEqual(18);
  }, 600_000);
});
