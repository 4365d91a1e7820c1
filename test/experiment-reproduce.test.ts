import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReproduceResult } from '../src/main/core/experiments/reproduce';
import { fool, foolJson, tempDir } from './helpers';

type Reproduce = ReproduceResult & { experimentId: number };
interface Stats {
  settings: { batchSize: number; cppn?: { coordinates: string }; direct?: { crossover: string } };
  stats: { generation: number; median: number; at9999: number }[];
}

describe('fool reproduce (the paper MNIST claim on the shipped LeNet)', () => {
  const dir = tempDir('fool-reproduce-');
  const db = join(dir, 'lab.db');

  it('one run per encoding and seed; every figure agrees with the runs own statistics', async () => {
    const r = await foolJson<Reproduce>(['reproduce', '--seeds', '4,5', '--generations', '8', '--checkpoint', '4', '--batch', '60', '--db', db]);
    expect(r.done).toBe(true);
    expect(r.rows.map((x) => `${x.encoding}:${x.seed}`)).toEqual(['cppn:4', 'cppn:5', 'direct:4', 'direct:5']);
    expect(new Set(r.rows.map((x) => x.runId)).size).toBe(4);
    for (const row of r.rows) {
      const run = await foolJson<Stats>(['runs', 'show', String(row.runId), '--db', db]);
      expect(run.settings.batchSize).toBe(60);
      const at = (g: number) => run.stats.find((s) => s.generation === g)!;
      expect(row.medianAtCheckpoint).toBeCloseTo(at(4).median, 12);
      expect(row.at9999AtCheckpoint).toBe(at(4).at9999);
      expect(row.medianAtEnd).toBeCloseTo(at(8).median, 12);
      expect(row.at9999AtEnd).toBe(at(8).at9999);
      // The classes named as lagging are exactly the cells not yet at 99.99%.
      expect(row.laggingAtCheckpoint).toHaveLength(10 - at(4).at9999);
      const first = run.stats.find((s) => s.at9999 === 10);
      expect(row.firstAllAt9999).toBe(first ? first.generation : null);
      expect(row.allByCheckpoint).toBe(first !== undefined && first.generation <= 4);
      expect(row.medianAtEndAt9999).toBe(at(8).median >= 0.9999);
    }
    expect(r.allByCheckpoint).toBe(r.rows.filter((x) => x.allByCheckpoint).length);

    // Stored as an experiment, with a report (table and median curves).
    const list = await foolJson<{ experiments: { id: number; kind: string }[] }>(['experiments', 'list', '--db', db]);
    expect(list.experiments.find((e) => e.id === r.experimentId)?.kind).toBe('reproduce');
    const rep = await foolJson<{ files: string[] }>(['report', String(r.experimentId), '--out', join(dir, 'report'), '--db', db]);
    expect(rep.files.map((f) => f.split('/').pop())).toEqual(expect.arrayContaining(['index.html', 'reproduce-median.png', 'result.json']));
    expect(existsSync(join(dir, 'report', 'reproduce-median.png'))).toBe(true);

    // The text form is the README's table.
    const text = await fool(['reproduce', '--seeds', '4', '--encodings', 'cppn', '--generations', '2', '--checkpoint', '1', '--batch', '20', '--db', db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/first generation with 10\/10 at >= 99\.99%/);
    expect(text.stdout).toMatch(/All 10 classes at >= 99\.99% by generation 1: [01]\/1 runs/);
  });

  it('engine options reach every run; bad input is refused before any run', async () => {
    const r = await foolJson<Reproduce>(['reproduce', '--seeds', '1', '--generations', '2', '--checkpoint', '2', '--batch', '20', '--coordinates', 'normalized', '--crossover', 'sbx', '--db', db]);
    const settings = await Promise.all(r.rows.map((x) => foolJson<Stats>(['runs', 'show', String(x.runId), '--db', db])));
    expect(settings.map((s) => s.settings.cppn?.coordinates ?? s.settings.direct?.crossover)).toEqual(['normalized', 'sbx']);

    const before = (await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db])).runs.length;
    for (const [args, message] of [
      [['--generations', '10', '--checkpoint', '50'], /checkpoint \(50\) must be a generation of the run \(0\.\.10\)/],
      [['--encodings', 'pixels'], /--encodings takes direct and\/or cppn/],
      [['--seeds', '1,x'], /--seeds takes whole numbers/],
      [['--model', 'no-such-model'], /no-such-model/],
    ] as const) {
      const bad = await fool(['reproduce', ...args, '--db', db]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(message);
    }
    expect((await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db])).runs).toHaveLength(before);
  });
});
