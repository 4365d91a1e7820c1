import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { SweepSpec, SweepTask, SweepTaskState } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import { kebab } from '../../../shared/experiment-params';
import type { JobContext } from '../jobs';
import { Lab } from '../lab';
import { labRuns } from '../labs/import';
import { importLabOffThread } from '../labs/import-thread';
import { packageRoot } from '../paths';
import { SweepStore, type NewTask } from '../store/sweeps';
import { FAILED_STATES, LIVE_STATES, refusal, sbatchScript, slurmMissing, submit, taskStates, type SlurmTaskState } from './slurm';

/**
 * A sweep: many evolution runs (models x encodings x seeds x settings), each a task with its own lab
 * file under the sweep's folder, run here N at a time or as a Slurm job array, and imported into
 * this lab as each finishes (labs/import.ts: new ids, provenance, models by hash). The sweep and
 * its tasks' states are in this lab (store/sweeps.ts), so a follower that was stopped or killed
 * picks up with `resume`, which resubmits only the tasks that failed or are missing.
 */

/** How often the follower looks at its tasks. */
const POLL_MS = Number(process.env.FOOL_SWEEP_POLL_MS) || 2000;

/** The tasks of a spec, checked against this lab's models (every task lab gets the model). */
export function planSweep(lab: Lab, spec: SweepSpec): { spec: SweepSpec; tasks: NewTask[] } {
  for (const m of spec.models) lab.models.get(m);
  const dir = resolve(spec.dir);
  const tasks: NewTask[] = [];
  for (const model of spec.models)
    for (const encoding of spec.encodings)
      for (const settings of spec.settings)
        for (const seed of spec.seeds) tasks.push({ task: tasks.length, model, encoding, seed, settings, lab: join(dir, `task-${tasks.length}.db`) });
  return { spec: { ...spec, dir }, tasks };
}

/**
 * The task's command line: `fool evolve` (settings by evolve's long option names), or, when its lab
 * already holds the task's run unfinished (a task stopped, killed, or ended by Slurm's time limit,
 * now resubmitted), `fool resume` of that run: it goes on from its last committed generation
 * instead of starting again from generation 0 (a run longer than the time limit would never end).
 */
function taskArgv(spec: SweepSpec, t: NewTask): string[] {
  const fool = join(packageRoot(), 'bin', 'fool.js');
  const unfinished = (labRuns(t.lab) ?? []).filter((r) => r.status !== 'finished').sort((a, b) => b.lastGeneration - a.lastGeneration)[0];
  if (unfinished) return [fool, 'resume', String(unfinished.id), '--db', t.lab, '--provider', spec.provider, '--workers', String(spec.workers), '--json'];
  const argv = [fool, 'evolve', '--db', t.lab, '--model', t.model, '--encoding', t.encoding, '--seed', String(t.seed), '--generations', String(spec.generations)];
  if (spec.batch) argv.push('--batch', String(spec.batch));
  argv.push('--provider', spec.provider, '--workers', String(spec.workers));
  for (const [k, v] of Object.entries(t.settings)) {
    const flag = `--${kebab(k)}`;
    if (v === true) argv.push(flag);
    else if (v !== false) argv.push(flag, String(v));
  }
  argv.push('--json');
  return argv;
}

/** Marks the runs a dead task left 'running' in its lab as stopped (no-op when it has no lab yet). */
function releaseStaleRuns(file: string): void {
  if (!labRuns(file)?.some((r) => r.status === 'running')) return;
  const taskLab = new Lab(file);
  try {
    for (const r of taskLab.runs.list()) if (r.status === 'running') taskLab.runs.release(r.id, 'stopped');
  } finally {
    taskLab.close();
  }
}

/** A user model of this lab, copied into a task's lab (shipped models are in every lab). */
function prepareTaskLab(lab: Lab, t: SweepTask): void {
  const info = lab.models.get(t.model);
  if (info.source === 'shipped') return;
  const taskLab = new Lab(t.lab);
  try {
    if (!taskLab.models.list().some((m) => m.name === t.model)) taskLab.models.addAdopted(taskLab.models.adoptFiles(info, t.model));
  } finally {
    taskLab.close();
  }
}

const logTail = (file: string): string => {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter((l) => !l.startsWith('{') && l.trim() !== '');
  return lines.slice(-2).join(' | ');
};

export interface SweepOutcome {
  sweepId: number;
  imported: number;
  failed: number;
  tasks: number;
  stopped: boolean;
}

/**
 * Starts a sweep: checks it, stores it, then follows it (the job's work). A Slurm sweep's options
 * are put to sbatch first (`--test-only`), so a sweep sbatch would refuse (a wrong --time or
 * --partition, no Slurm here) is refused before it is stored, not left in the lab as "submitted".
 */
export async function createSweep(lab: Lab, spec: SweepSpec): Promise<number> {
  const plan = planSweep(lab, spec);
  if (plan.spec.backend === 'local' && plan.spec.slurm.gres) throw new FoolError('BAD_INPUT', '--gres is a Slurm option', 'Add --slurm, or drop --gres');
  const clash = plan.tasks.find((t) => existsSync(t.lab));
  if (clash) throw new FoolError('BAD_INPUT', `${clash.lab} already exists: the folder ${plan.spec.dir} holds another sweep`, 'Give each sweep its own --dir');
  if (plan.spec.backend === 'slurm') await checkSlurm(plan.spec, plan.tasks);
  mkdirSync(join(plan.spec.dir, 'logs'), { recursive: true });
  return new SweepStore(lab.db).create(plan.spec, plan.tasks);
}

/** The compute nodes' node binary: the sweep's, else this one. */
function nodeBinary(spec: SweepSpec): string {
  const node = spec.slurm.node ?? process.execPath;
  if (!isAbsolute(node)) throw new FoolError('BAD_INPUT', `the node binary "${node}" is not an absolute path`, 'Give the compute nodes\' node by its absolute path');
  return node;
}

/** Refuses a Slurm sweep that cannot be submitted: no sbatch here, or sbatch refusing its script. */
async function checkSlurm(spec: SweepSpec, tasks: NewTask[]): Promise<void> {
  const missing = await slurmMissing();
  if (missing) throw new FoolError('UNSUPPORTED', missing, 'Run the sweep where Slurm is installed (a login node), or use the local backend');
  const dir = mkdtempSync(join(tmpdir(), 'fool-sweep-check-'));
  try {
    const file = join(dir, 'check.sbatch');
    const script = sbatchScript({ sweepId: 0, spec, logDir: join(spec.dir, 'logs'), node: nodeBinary(spec), tasks: tasks.map((t) => ({ task: t.task, argv: taskArgv(spec, t) })) });
    writeFileSync(file, script, { mode: 0o755 });
    const why = await refusal(file);
    if (why) throw new FoolError('BAD_INPUT', `sbatch refuses the sweep: ${why}; nothing was stored or submitted`, 'Check the Slurm options of the sweep (--partition, --time, --gres, --mem, --sbatch-option)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Which of a sweep's tasks must be (re)submitted: on start, all; on resume, those not imported,
 * not finished in their lab, and not queued or running in Slurm.
 */
export async function tasksToSubmit(lab: Lab, sweepId: number, resume: boolean): Promise<number[]> {
  const store = new SweepStore(lab.db);
  const spec = store.spec(sweepId);
  const tasks = store.tasks(sweepId);
  if (!resume) return tasks.map((t) => t.task);
  const jobs = new Map<string, Map<number, SlurmTaskState> | null>();
  const out: number[] = [];
  for (const t of tasks) {
    if (t.state === 'imported') continue;
    if (labRuns(t.lab)?.some((r) => r.status === 'finished')) continue;
    if (spec.backend === 'slurm' && t.slurmJob) {
      const job = t.slurmJob.split('_')[0];
      if (!jobs.has(job)) jobs.set(job, await taskStates(job));
      const st = jobs.get(job)?.get(t.task);
      if (st && LIVE_STATES.has(st.state)) continue;
      // Slurm says the task is over, so its process is gone (killed on a node, perhaps another
      // host): the run it left 'running' is released, so the resubmitted task may resume it at once.
      releaseStaleRuns(t.lab);
    }
    out.push(t.task);
  }
  return out;
}

/**
 * Submits `submitNow` and follows every task of the sweep not yet imported until each is imported
 * or failed (or the job is cancelled: local tasks are stopped; Slurm tasks go on, and `resume`
 * follows them again).
 */
export async function followSweep(lab: Lab, sweepId: number, submitNow: number[], ctx: Pick<JobContext, 'signal' | 'progress'>): Promise<SweepOutcome> {
  const store = new SweepStore(lab.db);
  const spec = store.spec(sweepId);
  const byTask = () => new Map(store.tasks(sweepId).map((t) => [t.task, t]));
  const logDir = join(spec.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const children = new Map<number, ChildProcess>();
  const exits = new Map<number, number | null>();
  const queue: number[] = [];

  if (submitNow.length) {
    const tasks = byTask();
    for (const n of submitNow) {
      const t = tasks.get(n)!;
      prepareTaskLab(lab, t);
      store.update(sweepId, n, { state: 'submitted', message: null, generation: null });
    }
    if (spec.backend === 'slurm') {
      const missing = await slurmMissing();
      if (missing) throw new FoolError('UNSUPPORTED', missing, 'Run the sweep where Slurm is installed (a login node), or use the local backend');
      const node = nodeBinary(spec);
      const script = sbatchScript({ sweepId, spec, logDir, node, tasks: submitNow.map((n) => ({ task: n, argv: taskArgv(spec, tasks.get(n)!) })) });
      const file = join(spec.dir, `sweep-${sweepId}.sbatch`);
      writeFileSync(file, script, { mode: 0o755 });
      store.setScript(sweepId, script);
      let job: string;
      try {
        job = await submit(file);
      } catch (e) {
        // Not submitted after all: said per task, and `resume` submits them again.
        for (const n of submitNow) store.update(sweepId, n, { state: 'failed', message: `not submitted: ${(e as Error).message}` });
        throw e;
      }
      for (const n of submitNow) store.update(sweepId, n, { slurmJob: `${job}_${n}` });
    } else {
      queue.push(...submitNow);
    }
  }

  const startLocal = () => {
    while (queue.length && children.size < spec.parallel && !ctx.signal.aborted) {
      const n = queue.shift()!;
      const t = byTask().get(n)!;
      const log = openSync(join(logDir, `task-${n}.out`), 'w');
      const child = spawn(process.execPath, taskArgv(spec, t), { stdio: ['ignore', log, log] });
      closeSync(log);
      children.set(n, child);
      store.update(sweepId, n, { state: 'running' });
      child.on('exit', (code) => {
        children.delete(n);
        exits.set(n, code);
      });
    }
  };

  let stopped = false;
  for (;;) {
    if (spec.backend === 'local') startLocal();
    const tasks = [...byTask().values()];
    const slurm = new Map<string, Map<number, SlurmTaskState> | null>();
    for (const t of tasks) {
      if (t.state === 'imported' || t.state === 'failed') continue;
      const runs = labRuns(t.lab);
      const done = runs?.find((r) => r.status === 'finished');
      const last = runs && runs.length ? Math.max(...runs.map((r) => r.lastGeneration)) : -1;
      const generation = last >= 0 ? last : null;
      const exited = exits.get(t.task);
      const localEnded = spec.backend === 'local' && exits.has(t.task);
      if (done && (spec.backend === 'slurm' || localEnded || !children.has(t.task))) {
        // Its run is finished: into this lab (a second import of the same run would add nothing).
        // Off this thread: the sweep's follower (and the app serving it) keeps going while it copies.
        const r = await importLabOffThread(lab.dbPath, t.lab, { runs: [done.id] });
        const runId = r.imported[0]?.runId ?? r.skipped[0]?.runId ?? null;
        store.update(sweepId, t.task, { state: 'imported', runId, generation: done.lastGeneration, message: null });
        continue;
      }
      let state: SweepTaskState = t.state;
      let message: string | null = t.message;
      if (spec.backend === 'local') {
        if (localEnded) {
          state = 'failed';
          message = `exited with code ${exited}${logTail(join(logDir, `task-${t.task}.out`)) ? `: ${logTail(join(logDir, `task-${t.task}.out`))}` : ''}`;
        }
      } else if (t.slurmJob) {
        const job = t.slurmJob.split('_')[0];
        if (!slurm.has(job)) slurm.set(job, await taskStates(job));
        const states = slurm.get(job);
        const st = states?.get(t.task);
        if (!states) {
          state = 'failed';
          message = `Slurm no longer knows job ${job} and the task's lab holds no finished run`;
        } else if (st && st.state === 'RUNNING') state = 'running';
        else if (st && (FAILED_STATES.has(st.state) || st.state === 'COMPLETED')) {
          // COMPLETED without a finished run: the run failed inside (see the log).
          state = 'failed';
          const tail = logTail(join(logDir, `task-${t.task}.out`));
          message = `Slurm: ${st.state}, exit code ${st.exitCode ?? '?'}${tail ? `: ${tail}` : ''}`;
        }
      }
      store.update(sweepId, t.task, { state, message, generation });
    }
    const now = store.tasks(sweepId);
    const imported = now.filter((t) => t.state === 'imported').length;
    const failed = now.filter((t) => t.state === 'failed').length;
    ctx.progress({
      done: imported + failed,
      total: now.length,
      message: `sweep ${sweepId}: ${imported} of ${now.length} tasks imported${failed ? `, ${failed} failed` : ''}`,
      detail: { sweepId, tasks: now.map((t) => ({ task: t.task, state: t.state, generation: t.generation, generations: spec.generations, runId: t.runId, message: t.message })) },
    });
    if (imported + failed === now.length) break;
    if (ctx.signal.aborted) {
      stopped = true;
      for (const [n, c] of children) {
        c.kill('SIGTERM');
        store.update(sweepId, n, { state: 'failed', message: 'stopped (fool sweep --resume resubmits it)' });
      }
      for (const n of queue) store.update(sweepId, n, { state: 'planned', message: 'not started (fool sweep --resume submits it)' });
      break;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const end = store.tasks(sweepId);
  return { sweepId, tasks: end.length, imported: end.filter((t) => t.state === 'imported').length, failed: end.filter((t) => t.state === 'failed').length, stopped };
}
