import { execFile } from 'node:child_process';
import { FoolError } from '../../../shared/errors';
import type { SweepSpec } from '../../../shared/api';

/**
 * Slurm, through its commands (sbatch, squeue, scontrol, sacct): a job array with one task per
 * sweep task, its array index being the task's number, so a resubmission of some tasks keeps them.
 */

/** What Slurm says of one array task. */
export interface SlurmTaskState {
  state: string;
  exitCode: string | null;
}

/** Slurm states after which a task will not run again by itself. */
export const FAILED_STATES = new Set(['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED', 'REVOKED']);
export const LIVE_STATES = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'RESIZING', 'SUSPENDED', 'STAGE_OUT', 'SIGNALING']);

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      done({ code, stdout, stderr: stderr || (err && !stdout ? err.message : '') });
    });
  });
}

/** Single-quoted for bash. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** "0-3,5,7-8" for [0,1,2,3,5,7,8]. */
export function arraySpec(tasks: number[]): string {
  const sorted = [...tasks].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The sbatch script: one array task per sweep task; each runs `node <repo>/bin/fool.js evolve ...` with absolute paths. */
export function sbatchScript(o: { sweepId: number; spec: SweepSpec; logDir: string; node: string; tasks: { task: number; argv: string[] }[] }): string {
  const s = o.spec.slurm;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=fool-sweep-${o.sweepId}`,
    `#SBATCH --array=${arraySpec(o.tasks.map((t) => t.task))}${s.maxRunning ? `%${s.maxRunning}` : ''}`,
    `#SBATCH --output=${o.logDir}/task-%a.out`,
    `#SBATCH --ntasks=1`,
    `#SBATCH --cpus-per-task=${o.spec.workers}`,
    ...(s.gres ? [`#SBATCH --gres=${s.gres}`] : []),
    ...(s.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.time ? [`#SBATCH --time=${s.time}`] : []),
    ...(s.mem ? [`#SBATCH --mem=${s.mem}`] : []),
    ...s.options.map((x) => `#SBATCH ${x}`),
    '# Written by `fool sweep` (Fooling Lab). One evolution run per array task, each in its own lab file;',
    '# the lab that submitted it imports each task as it finishes (fool sweep --resume ID to follow again).',
    'set -euo pipefail',
    ...s.setup,
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...o.tasks.map((t) => `  ${t.task}) exec ${[o.node, ...t.argv].map(shq).join(' ')} ;;`),
    '  *) echo "fool sweep: no task $SLURM_ARRAY_TASK_ID in this script" >&2; exit 2 ;;',
    'esac',
    '',
  ];
  return lines.join('\n');
}

/** Whether sbatch can be run here (null) or why not. */
export async function slurmMissing(): Promise<string | null> {
  const r = await run('sbatch', ['--version'], 10_000);
  return r.code === 0 ? null : `sbatch cannot be run here (${(r.stderr || 'not found').trim().split('\n')[0]})`;
}

/** Submits the script; returns the job id. */
export async function submit(script: string): Promise<string> {
  const r = await run('sbatch', ['--parsable', script]);
  if (r.code !== 0) {
    throw new FoolError('UNSUPPORTED', `sbatch refused the sweep: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`, `Check the Slurm options (partition, time, gres) of the sweep; the script is ${script}`);
  }
  const id = r.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new FoolError('INTERNAL', `sbatch answered "${r.stdout.trim()}", not a job id`);
  return id;
}

/**
 * Whether sbatch would take the script (`sbatch --test-only`: validated against the cluster,
 * partition, time and resources included, and nothing submitted): null, or sbatch's reason.
 */
export async function refusal(script: string): Promise<string | null> {
  const r = await run('sbatch', ['--test-only', script]);
  return r.code === 0 ? null : r.stderr.trim().split('\n').slice(-2).join(' ') || `sbatch exited with ${r.code}`;
}

/** Expands "0-3,5%2" to [0, 1, 2, 3, 5]. */
function expandArray(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split('%')[0].split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (Number.isNaN(a)) continue;
    for (let i = a; i <= (Number.isNaN(b) || b === undefined ? a : b); i++) out.push(i);
  }
  return out;
}

/**
 * The state of each array task of a job: from `scontrol -o show job` (no accounting needed; the
 * controller keeps ended jobs for MinJobAge), else from `sacct` where accounting runs. null: Slurm
 * no longer knows the job.
 */
export async function taskStates(jobId: string): Promise<Map<number, SlurmTaskState> | null> {
  const r = await run('scontrol', ['-o', 'show', 'job', jobId]);
  if (r.code === 0 && r.stdout.trim()) {
    const out = new Map<number, SlurmTaskState>();
    for (const line of r.stdout.trim().split('\n')) {
      const f = (k: string) => line.match(new RegExp(`(?:^|\\s)${k}=(\\S+)`))?.[1] ?? null;
      const ids = f('ArrayTaskId');
      const state = f('JobState');
      if (ids === null || state === null) continue;
      for (const t of expandArray(ids)) out.set(t, { state, exitCode: f('ExitCode') });
    }
    return out;
  }
  const a = await run('sacct', ['-j', jobId, '-n', '-P', '-X', '-o', 'JobID,State,ExitCode']);
  if (a.code === 0 && a.stdout.trim()) {
    const out = new Map<number, SlurmTaskState>();
    for (const line of a.stdout.trim().split('\n')) {
      const [id, state, exitCode] = line.split('|');
      const m = id.match(/_(\[?)([\d,-]+)/);
      if (!m) continue;
      for (const t of expandArray(m[2])) out.set(t, { state: state.split(' ')[0], exitCode: exitCode ?? null });
    }
    return out;
  }
  return null;
}
