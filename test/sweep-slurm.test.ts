import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SweepDetail, SweepTask } from '../src/shared/api';
import { openDb } from '../src/main/core/store/db';
import { RunStore } from '../src/main/core/store/runs';
import { SweepStore } from '../src/main/core/store/sweeps';
import { arraySpec } from '../src/main/core/sweeps/slurm';
import { fool, foolJson, SHARED, tempDir } from './helpers';

/**
 * `fool sweep --slurm` against a real Slurm: a single-node cluster (munged, slurmctld, slurmd on
 * this machine) started by ../shared/tools/slurm-single-node (as root), or one already running.
 * Short MNIST runs of the shipped LeNet; skipped, with the reason, where Slurm cannot start.
 */

const TOOL = join(SHARED, 'tools/slurm-single-node');
const FOOL = resolve(__dirname, '../bin/fool.js');
const HAS_MODEL = existsSync(resolve(__dirname, '../resources/models/lenet-mnist.onnx'));

function idle(): boolean {
  try {
    return execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 }).split('\n').some((s) => s.trim() === 'idle' || s.trim() === 'mixed');
  } catch {
    return false;
  }
}

/** A cluster to submit to: one already up, or one this file starts (and stops). */
let started = false;
function slurm(): string | null {
  if (idle()) return null;
  if (!existsSync(TOOL)) return `no Slurm cluster is running and ${TOOL} is absent`;
  if (process.getuid?.() !== 0) return `no Slurm cluster is running, and ${TOOL} needs root`;
  try {
    execFileSync(TOOL, ['start'], { stdio: 'pipe', timeout: 600_000 });
    started = true;
  } catch (e) {
    return `${TOOL} start failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n').slice(-2).join(' ')}`;
  }
  return idle() ? null : 'Slurm started but its node is not idle';
}
const NO_SLURM = HAS_MODEL ? slurm() : 'the shipped LeNet (resources/models) is missing';
if (NO_SLURM) console.warn(`[skip] sweep-slurm: ${NO_SLURM}`);

afterAll(() => {
  if (started) execFileSync(TOOL, ['stop'], { stdio: 'ignore' });
});

/** Per class, the best champion confidence over the given task labs (read as a user would: each lab's finished run). */
function perClassMaxima(labs: string[]): Map<number, number> {
  const best = new Map<number, number>();
  for (const file of labs) {
    const db = openDb(file, { readonly: true });
    try {
      const store = new RunStore(db);
      // One run a task lab: a task cancelled mid-run and resubmitted resumed its run, not a second one.
      expect(store.list(), file).toHaveLength(1);
      const finished = store.list().filter((r) => r.status === 'finished');
      expect(finished, file).toHaveLength(1);
      for (const c of store.champions(finished[0].id)) best.set(c.class, Math.max(best.get(c.class) ?? 0, c.confidence));
    } finally {
      db.close();
    }
  }
  return best;
}

type SweepJson = { sweepId: number; tasks: SweepTask[]; imported: number; failed: number; archive: SweepDetail['archive']; resubmitted?: number[] };

describe.skipIf(NO_SLURM !== null)(`fool sweep on Slurm (${NO_SLURM ?? 'a single-node cluster'})`, () => {
  it('submits a 4-task sweep as a job array, imports the 4 runs, and merges the archive to the per-class maxima of the task labs', async () => {
    const dir = tempDir('fool-sweep-');
    const db = join(dir, 'lab.db');
    const r = await foolJson<SweepJson>(['sweep', '--slurm', '--models', 'lenet-mnist', '--encodings', 'direct,cppn', '--seeds', '1-2', '--generations', '3', '--batch', '10', '--dir', join(dir, 'tasks'), '--db', db]);
    expect(r.imported).toBe(4);
    expect(r.failed).toBe(0);
    expect(r.tasks.map((t) => [t.encoding, t.seed, t.state])).toEqual([
      ['direct', 1, 'imported'],
      ['direct', 2, 'imported'],
      ['cppn', 1, 'imported'],
      ['cppn', 2, 'imported'],
    ]);
    expect(r.tasks.every((t) => /^\d+_\d$/.test(t.slurmJob ?? ''))).toBe(true);
    const runs = await foolJson<{ runs: { runId: number; status: string; generation: number }[] }>(['runs', 'list', '--db', db]);
    expect(runs.runs.map((x) => [x.status, x.generation])).toEqual(Array(4).fill(['finished', 3]));

    const maxima = perClassMaxima(r.tasks.map((t) => t.lab));
    expect(new Map(r.archive.map((c) => [c.class, c.confidence]))).toEqual(maxima);
    // Each class's champion is the imported copy of the task run that holds the maximum.
    for (const c of r.archive) expect(r.tasks.map((t) => t.runId)).toContain(c.runId);

    // The script calls the checkout's fool with absolute paths, one array task per run.
    const script = readFileSync(join(dir, 'tasks', `sweep-${r.sweepId}.sbatch`), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3');
    expect(script).toContain(`'${process.execPath}' '${FOOL}' 'evolve'`);
  }, 300_000);

  it('a sweep whose options sbatch refuses is refused before anything is stored or submitted', async () => {
    const dir = tempDir('fool-sweep-bad-');
    const db = join(dir, 'lab.db');
    const base = ['sweep', '--slurm', '--models', 'lenet-mnist', '--encodings', 'cppn', '--seeds', '1', '--generations', '2', '--batch', '10', '--dir', join(dir, 'tasks'), '--db', db];
    // A first sweep that works makes the lab; the refused ones must leave it as it was.
    expect((await fool([...base.slice(0, -4), '--dir', join(dir, 'ok'), '--db', db])).code).toBe(0);
    const before = readFileSync(db);
    for (const [flags, why] of [
      [['--time', 'abc'], /Invalid --time specification/],
      [['--partition', 'no-such-partition'], /invalid partition/i],
    ] as [string[], RegExp][]) {
      const r = await fool([...base, ...flags]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/sbatch refuses the sweep: /);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toMatch(/nothing was stored or submitted/);
    }
    const list = await foolJson<{ sweeps: unknown[] }>(['sweep', '--list', '--db', db]);
    expect(list.sweeps).toHaveLength(1);
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'tasks', 'task-0.db'))).toBe(false);
  }, 120_000);

  it('a sweep killed mid-way and resumed resubmits only its unfinished tasks', async () => {
    const dir = tempDir('fool-sweep-kill-');
    const db = join(dir, 'lab.db');
    const tasksDir = join(dir, 'tasks');
    // One task at a time, so that when the first is imported the others are queued or running.
    const child = spawn(process.execPath, [FOOL, 'sweep', '--slurm', '--max-running', '1', '--models', 'lenet-mnist', '--encodings', 'cppn', '--seeds', '1-4', '--generations', '4', '--batch', '10', '--dir', tasksDir, '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FOOL_SWEEP_POLL_MS: '500' },
    });
    let err = '';
    const exit = new Promise<void>((done) => child.on('exit', () => done()));
    await new Promise<void>((done) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/task \d: imported/.test(err)) done();
      });
      void exit.then(() => done());
    });
    // The follower dies, and the cluster cancels what is left (a node lost, a wall-time hit).
    child.kill('SIGKILL');
    await exit;
    const read = openDb(db, { readonly: true });
    const before = new SweepStore(read).tasks(1);
    read.close();
    const job = before[0].slurmJob!.split('_')[0];
    execFileSync('scancel', [job]);
    for (let i = 0; i < 100 && execFileSync('squeue', ['-h', '-j', job], { encoding: 'utf8' }).trim(); i++) await new Promise((r) => setTimeout(r, 200));

    // Unfinished: no finished run in its lab (cancelled while queued or running).
    const unfinished = before.filter((t) => {
      if (!existsSync(t.lab)) return true;
      const d = openDb(t.lab, { readonly: true });
      try {
        return !new RunStore(d).list().some((x) => x.status === 'finished');
      } finally {
        d.close();
      }
    }).map((t) => t.task);
    expect(unfinished.length, err).toBeGreaterThan(0);
    expect(unfinished).not.toContain(before.find((t) => t.state === 'imported')!.task);

    const r = await foolJson<SweepJson>(['sweep', '--resume', '1', '--db', db], { FOOL_SWEEP_POLL_MS: '500' });
    expect(r.resubmitted).toEqual(unfinished);
    expect(r.imported).toBe(4);
    const script = readFileSync(join(tasksDir, 'sweep-1.sbatch'), 'utf8');
    expect(script).toContain(`#SBATCH --array=${arraySpec(unfinished)}%1`);
    for (const t of before) expect(script.includes(`  ${t.task}) exec`)).toBe(unfinished.includes(t.task));
    // Nothing twice: one run a task.
    expect((await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db])).runs).toHaveLength(4);
    expect(new Map(r.archive.map((c) => [c.class, c.confidence]))).toEqual(perClassMaxima(r.tasks.map((t) => t.lab)));
  }, 300_000);
});
