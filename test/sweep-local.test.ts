import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labRuns } from '../src/main/core/labs/import';
import { foolJson, tempDir } from './helpers';

/**
 * `fool sweep` on this machine (the local backend), stopped and resumed as a user would: Ctrl-C
 * stops its tasks, `fool sweep --resume ID` submits them again. Small MNIST runs of the shipped LeNet.
 */

const FOOL = resolve(__dirname, '../bin/fool.js');

type SweepJson = { sweepId: number; imported: number; failed: number; tasks: { task: number; state: string; lab: string; runId: number | null; generation: number | null }[] };

describe('a local sweep stopped with Ctrl-C and resumed', () => {
  it('resumes each stopped task from its last committed generation, in the same run (not a second run from generation 0)', async () => {
    const dir = tempDir('fool-sweep-local-');
    const db = join(dir, 'lab.db');
    const tasks = join(dir, 'tasks');
    const task0 = join(tasks, 'task-0.db');
    const child = spawn(process.execPath, [FOOL, 'sweep', '--models', 'lenet-mnist', '--encodings', 'direct', '--seeds', '1', '--generations', '600', '--batch', '20', '--workers', '1', '--parallel', '1', '--dir', tasks, '--db', db, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FOOL_SWEEP_POLL_MS: '200' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const at = () => (existsSync(task0) ? Math.max(-1, ...(labRuns(task0) ?? []).map((r) => r.lastGeneration)) : -1);
    for (let i = 0; i < 1200 && at() < 20; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stopped = JSON.parse(out) as SweepJson;
    expect(stopped.tasks[0].state).toBe('failed');
    const before = labRuns(task0)!;
    expect(before).toHaveLength(1);
    expect(before[0].status).not.toBe('finished');
    const reached = before[0].lastGeneration;
    expect(reached).toBeGreaterThanOrEqual(20);
    expect(reached).toBeLessThan(600);

    const resumed = await foolJson<SweepJson>(['sweep', '--resume', String(stopped.sweepId), '--db', db], { FOOL_SWEEP_POLL_MS: '200' });
    expect(resumed.imported).toBe(1);
    const after = labRuns(task0)!;
    // One run, the same one, finished: the generations before the stop were kept, not redone.
    expect(after.map((r) => [r.id, r.status, r.lastGeneration])).toEqual([[before[0].id, 'finished', 600]]);
    // The imported run is that run, with every generation's statistics (0..600) once.
    const shown = await foolJson<{ stats: { generation: number }[] }>(['runs', 'show', String(resumed.tasks[0].runId), '--db', db]);
    expect(shown.stats.map((s) => s.generation)).toEqual(Array.from({ length: 601 }, (_, g) => g));
  }, 180_000);
});
