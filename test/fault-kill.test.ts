import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fool, foolJson, tempDir } from './helpers';
import { killAfter, killTimes, start } from './fault-helpers';

/**
 * The fault suite, part 2: SIGKILL (no cleanup, no finally) at seeded random moments of every long
 * command, then the command's recovery path; the lab must be whole afterwards and the work must
 * finish. FOOL_FAULT_SEED=N replays another draw of kill times. Tiny runs on the shipped LeNet.
 */

const SEED = Number(process.env.FOOL_FAULT_SEED ?? 14);
const TINY = ['--model', 'lenet-mnist', '--batch', '20', '--workers', '1'];
const LENET = resolve(__dirname, '../resources/models/lenet-mnist.onnx');

/** Kills delivered while the command was still at work (a command that finished first is not a kill). */
const tally = { kills: 0, finishedFirst: 0 };
afterAll(() => console.log(`[fault suite] seed ${SEED}: ${tally.kills} SIGKILLs landed mid-work and were recovered from; ${tally.finishedFirst} commands finished before their kill time`));

let draw = 0;
/** The next kill time in [lo, hi] ms from this file's seeded sequence. */
function nextKill(lo: number, hi: number): number {
  return killTimes(SEED * 1000 + draw++, 1, lo, hi)[0];
}

/**
 * Runs `args` to its end and says how long it took (ms): kill times are drawn within a command's
 * own duration on this machine, so they land mid-work on a fast machine and a slow one alike.
 */
async function measure(args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await fool(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return performance.now() - t0;
}

/** Runs `args`, SIGKILLs it at a drawn moment within [0.15, 0.85] of `duration`; true when the kill landed. */
async function killed(args: string[], duration: number): Promise<boolean> {
  const r = await killAfter(start(args), nextKill(0.15 * duration, 0.85 * duration));
  const landed = r.code === 128 + 9;
  if (landed) tally.kills++;
  else {
    tally.finishedFirst++;
    expect(r.code, r.stderr).toBe(0);
  }
  return landed;
}

type Stats = { generation: number; median: number; mean: number; max: number; min: number; occupied: number; at99: number; at9999: number }[];
const science = (s: Stats) => s.map(({ generation, median, mean, max, min, occupied, at99, at9999 }) => ({ generation, median, mean, max, min, occupied, at99, at9999 }));

async function runsOf(db: string): Promise<{ runId: number; status: string; generation: number }[]> {
  if (!existsSync(db)) return [];
  return (await foolJson<{ runs: { runId: number; status: string; generation: number }[] }>(['runs', 'list', '--db', db])).runs;
}

describe('SIGKILL, then recovery', () => {
  it('evolve and resume killed at random points: resume finishes with the statistics of an uninterrupted run', async () => {
    const dir = tempDir();
    const ref = join(dir, 'ref.db');
    const db = join(dir, 'lab.db');
    const G = 300;
    const args = ['--encoding', 'direct', '--generations', String(G), '--seed', '5'];
    const d = await measure(['evolve', ...TINY, ...args, '--db', ref]);
    for (let k = 0; k < 3; k++) {
      const runs = await runsOf(db);
      if (runs[0]?.generation === G) break; // finished before a kill: nothing left to kill
      const cmd = runs.length === 0 ? ['evolve', ...TINY, ...args] : ['resume', '1', '--workers', '1'];
      // A resume has less left to do: its window shrinks with the generations done.
      const left = runs.length === 0 ? 1 : Math.max(0.3, (G - runs[0].generation) / G);
      await killed([...cmd, '--db', db], d * left);
    }
    const runs = await runsOf(db);
    if (runs.length === 0) expect((await fool(['evolve', ...TINY, ...args, '--db', db])).code).toBe(0);
    else if (runs[0].generation < G) {
      const r = await fool(['resume', '1', '--workers', '1', '--db', db]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await runsOf(db)).map((r) => r.runId)).toEqual([1]);
    const a = await foolJson<{ stats: Stats; status: string }>(['runs', 'show', '1', '--db', ref]);
    const b = await foolJson<{ stats: Stats; status: string }>(['runs', 'show', '1', '--db', db]);
    expect(b.status).toBe('finished');
    expect(science(b.stats)).toEqual(science(a.stats));
  });

  it('export killed at random points: exporting again into the same folder works', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    expect((await fool(['evolve', ...TINY, '--encoding', 'cppn', '--generations', '3', '--db', db])).code).toBe(0);
    const out = join(dir, 'gallery');
    const d = await measure(['export', '1', '--out', join(dir, 'first'), '--db', db]);
    for (let k = 0; k < 2; k++) await killed(['export', '1', '--out', out, '--db', db], d);
    const r = await foolJson<{ files: string[]; champions: number }>(['export', '1', '--out', out, '--db', db]);
    for (const f of r.files) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).champions).toHaveLength(r.champions);
  });

  it('models add killed at random points: no staging folder is left, and adding again works', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    const d = await measure(['models', 'add', LENET, '--name', 'first', '--preset', 'mnist', '--db', db]);
    for (let k = 0; k < 2; k++) {
      await killed(['models', 'add', LENET, '--name', `kill${k}`, '--preset', 'mnist', '--db', db], d);
      const known = existsSync(db) ? (await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', db])).models.map((m) => m.name) : [];
      if (!known.includes(`kill${k}`)) {
        const again = await fool(['models', 'add', LENET, '--name', `kill${k}`, '--preset', 'mnist', '--db', db]);
        expect(again.code, again.stderr).toBe(0);
      }
      // Its files are whole: the graph decodes and matches the manifest.
      const shown = await fool(['models', 'show', `kill${k}`, '--db', db]);
      expect(shown.code, shown.stderr).toBe(0);
    }
    expect(readdirSync(join(dir, 'lab.models')).filter((f) => f.includes('.staging'))).toEqual([]);
  });

  it('train killed at a random point: --resume from the checkpoint (or a new start) writes a whole model', async () => {
    const dir = tempDir();
    const out = join(dir, 'mine.onnx');
    const args = ['train', 'lenet', '--epochs', '2', '--train-limit', '2000', '--test-limit', '300', '--out', out, '--db', join(dir, 'lab.db')];
    const d = await measure([...args.slice(0, -3), join(dir, 'first.onnx'), '--db', join(dir, 'lab.db')]);
    await killed(args, d);
    const r = await fool([...args, ...(existsSync(`${out}.ckpt`) ? ['--resume'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const added = await fool(['models', 'add', out, '--name', 'mine', '--preset', 'mnist', '--db', join(dir, 'lab.db')]);
    expect(added.code, added.stderr).toBe(0);
  });

  it('each experiment killed at a random point: running it again completes, and the lab stays readable', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    expect((await fool(['evolve', ...TINY, '--encoding', 'cppn', '--generations', '3', '--db', db])).code).toBe(0);
    expect((await fool(['models', 'add', LENET, '--name', 'other', '--preset', 'mnist', '--db', db])).code).toBe(0);
    const experiments: [string, string[]][] = [
      ['transfer', ['transfer', '--runs', '1', '--models', 'other', '--workers', '1']],
      ['ablate', ['ablate', '1', '--workers', '1']],
      ['reproduce', ['reproduce', '--seeds', '1', '--encodings', 'direct', '--generations', '6', '--checkpoint', '3', '--batch', '20', '--workers', '1']],
      [
        'retrain',
        ['retrain', '--iterations', '2', '--runs-per-iteration', '1', '--generations', '3', '--batch', '20', '--epochs', '1', '--train-limit', '500', '--test-limit', '200', '--workers', '1', '--work-dir', join(dir, 'work')],
      ],
    ];
    for (const [name, args] of experiments) {
      const d = await measure([...args, '--db', db]);
      await killed([...args, '--db', db], d);
      const r = await fool([...args, '--db', db, '--json']);
      expect(r.code, `${name} after a kill: ${r.stderr}`).toBe(0);
      const { experimentId } = JSON.parse(r.stdout) as { experimentId: number };
      const report = await fool(['experiments', 'report', String(experimentId), '--out', join(dir, `report-${name}`), '--db', db]);
      expect(report.code, report.stderr).toBe(0);
    }
    // Every run left by a killed experiment is resumable, none is stuck as live.
    for (const r of await runsOf(db)) expect(['finished', 'stopped', 'failed']).toContain(r.status);
  });

  it('the kills landed mid-work (a kill after a command ended would prove nothing)', () => {
    expect(tally.kills).toBeGreaterThanOrEqual(9);
  });
});
