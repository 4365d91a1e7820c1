import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ApiEvent, SweepDetail, SweepSpec } from '../../../shared/api';
import { ENCODINGS } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { formatConfidence } from '../../../shared/confidence';
import { splitList } from '../../../shared/experiment-params';
import { jobResult, parseIntOption, run, table, withLab, type LabClient } from '../common';

/** "1-4" or "1,2,7" -> numbers. */
function parseSeeds(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new FoolError('BAD_INPUT', `--seeds "${v}" is not a list of seeds`, 'Pass e.g. --seeds 1-4 or --seeds 1,2,7');
    if (m[2] !== undefined && Number(m[2]) < Number(m[1])) throw new FoolError('BAD_INPUT', `--seeds "${v}": the range ${part.trim()} runs backwards`, `Write it low to high, e.g. --seeds ${m[2]}-${m[1]}`);
    for (let s = Number(m[1]); s <= Number(m[2] ?? m[1]); s++) out.push(s);
  }
  return out;
}


/** "direct,cppn" -> the encodings, each one the engine knows. */
function encodingList(v: string): string[] {
  const out = splitList(v);
  const bad = out.filter((e) => !(ENCODINGS as readonly string[]).includes(e));
  if (bad.length || out.length === 0) throw new FoolError('BAD_INPUT', `--encodings "${v}" names ${bad.length ? `no encoding "${bad[0]}"` : 'no encoding'}`, `Pass ${ENCODINGS.join(', ')} or both, comma-separated`);
  return out;
}
const collect = (v: string, prev: string[] = []) => [...prev, v];

interface Opts {
  spec?: string;
  models?: string;
  encodings?: string;
  seeds?: string;
  generations?: number;
  batch?: number;
  settings?: string;
  dir?: string;
  slurm?: boolean;
  parallel?: number;
  provider?: 'auto' | 'cpu' | 'cuda';
  workers?: number;
  gres?: string;
  partition?: string;
  time?: string;
  mem?: string;
  maxRunning?: number;
  setup?: string[];
  sbatchOption?: string[];
  node?: string;
  resume?: number;
  list?: boolean;
  show?: number;
}

/** The spec: a JSON file (--spec), with the flags given on top of it. */
function specFrom(o: Opts): unknown {
  let spec: Record<string, unknown> = {};
  if (o.spec) {
    try {
      spec = JSON.parse(readFileSync(o.spec, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new FoolError('BAD_INPUT', `cannot read the sweep spec ${o.spec}: ${(e as Error).message}`, 'Pass a JSON file like {"models": ["lenet-mnist"], "encodings": ["direct"], "seeds": [1, 2], "generations": 200, "dir": "sweep1"}');
    }
  }
  const slurm = { ...((spec.slurm as object | undefined) ?? {}) } as Record<string, unknown>;
  const set = (obj: Record<string, unknown>, k: string, v: unknown) => v !== undefined && (obj[k] = v);
  set(spec, 'models', o.models && splitList(o.models));
  set(spec, 'encodings', o.encodings && encodingList(o.encodings));
  set(spec, 'seeds', o.seeds && parseSeeds(o.seeds));
  set(spec, 'generations', o.generations);
  set(spec, 'batch', o.batch);
  if (o.settings) {
    try {
      set(spec, 'settings', JSON.parse(o.settings) as unknown);
    } catch {
      throw new FoolError('BAD_INPUT', `--settings is not JSON: ${o.settings}`, 'Pass a JSON list of variants, e.g. --settings \'[{"crossover":"none"},{"crossover":"sbx"}]\'');
    }
  }
  set(spec, 'dir', o.dir);
  if (o.slurm) spec.backend = 'slurm';
  set(spec, 'parallel', o.parallel);
  set(spec, 'provider', o.provider);
  set(spec, 'workers', o.workers);
  set(slurm, 'gres', o.gres);
  set(slurm, 'partition', o.partition);
  set(slurm, 'time', o.time);
  set(slurm, 'mem', o.mem);
  set(slurm, 'maxRunning', o.maxRunning);
  set(slurm, 'setup', o.setup);
  set(slurm, 'options', o.sbatchOption);
  set(slurm, 'node', o.node);
  spec.slurm = slurm;
  const need: [string, string][] = [
    ['models', '--models lenet-mnist'],
    ['encodings', '--encodings direct,cppn'],
    ['seeds', '--seeds 1-4'],
    ['generations', '--generations 200'],
    ['dir', '--dir sweep1 (on a cluster: a folder on storage every node sees)'],
  ];
  const missing = need.filter(([k]) => spec[k] === undefined);
  if (missing.length) {
    throw new FoolError('BAD_INPUT', `a sweep needs ${missing.map(([k]) => `--${k}`).join(', ')}`, `Add ${missing.map(([, eg]) => eg).join(', ')}, or give them in --spec FILE.json`);
  }
  // A GPU per task asks for CUDA unless the provider was given.
  if (o.gres?.startsWith('gpu') && o.provider === undefined && spec.provider === undefined) spec.provider = 'cuda';
  return spec;
}

function summary(d: SweepDetail): { json: unknown; text: string } {
  const text = [
    `Sweep ${d.sweepId} (${d.backend}, ${d.dir}): ${d.imported} of ${d.tasks} tasks imported${d.failed ? `, ${d.failed} failed` : ''}`,
    table([
      ['task', 'model', 'encoding', 'seed', 'settings', 'state', 'generation', 'run', 'note'],
      ...d.taskList.map((t) => [t.task, t.model, t.encoding, t.seed, JSON.stringify(t.settings), t.state, t.generation === null ? '-' : `${t.generation}/${d.generations}`, t.runId ?? '-', t.message ?? '']),
    ]),
    d.archive.length ? `Merged archive (best over the sweep): ${d.archive.map((c) => `${c.label} ${formatConfidence(c.confidence)} (run ${c.runId})`).join(', ')}` : '',
    d.failed ? `Resubmit the failed tasks with: fool sweep --resume ${d.sweepId}` : '',
  ].filter(Boolean);
  return { json: { sweepId: d.sweepId, backend: d.backend, dir: d.dir, tasks: d.taskList, imported: d.imported, failed: d.failed, archive: d.archive }, text: text.join('\n') };
}

/** Follows the sweep's job, printing a line per task whenever its state changes. */
async function followJob(lab: LabClient, jobId: number, sweepId: number, quiet: boolean): Promise<SweepDetail> {
  const seen = new Map<number, string>();
  const end = await lab.follow(
    jobId,
    (e: ApiEvent) => {
      if (quiet || e.type !== 'job.progress' || !e.detail) return;
      for (const t of e.detail.tasks as { task: number; state: string; generation: number | null; generations: number; runId: number | null; message: string | null }[]) {
        const line = `task ${t.task}: ${t.state}${t.generation === null ? '' : ` (generation ${t.generation}/${t.generations})`}${t.runId ? ` -> run ${t.runId}` : ''}${t.message ? `: ${t.message}` : ''}`;
        if (seen.get(t.task) !== line) process.stderr.write(`${line}\n`);
        seen.set(t.task, line);
      }
    },
    `Stopping: tasks running here stop; Slurm tasks keep running. Follow them again with: fool sweep --resume ${sweepId}`,
  );
  jobResult(end);
  return lab.call('sweeps.get', { sweepId });
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('many runs (models x encodings x seeds x settings), here N at a time or as a Slurm job array; each imported into this lab as it finishes')
    .option('--spec <file>', 'the sweep as JSON (fields as the flags: models, encodings, seeds, generations, batch, settings, dir, backend, parallel, provider, workers, slurm: {...})')
    .option('--models <names>', 'models, comma-separated')
    .option('--encodings <list>', `encodings, comma-separated (${ENCODINGS.join(', ')})`)
    .option('--seeds <list>', 'seeds: 1-4 or 1,2,7')
    .option('--generations <n>', 'generations of each run', parseIntOption('--generations'))
    .option('--batch <n>', 'images per generation', parseIntOption('--batch'))
    .option('--settings <json>', 'settings variants, a JSON list of evolve options by name, e.g. \'[{"crossover":"sbx"}]\'')
    .option('--dir <dir>', 'folder of the task labs, script and logs (on a cluster: shared storage)')
    .option('--slurm', 'submit as a Slurm job array (sbatch) instead of running here')
    .option('--parallel <n>', 'here: tasks at once (default 2)', parseIntOption('--parallel'))
    .addOption(new Option('--provider <p>', 'execution provider of each task (default cpu; cuda with --gres gpu:...)').choices(['auto', 'cpu', 'cuda']))
    .option('--workers <n>', 'classifier workers of each task (Slurm: --cpus-per-task; default 1)', parseIntOption('--workers'))
    .option('--gres <gres>', 'Slurm: generic resources of each task, e.g. gpu:1')
    .option('--partition <p>', 'Slurm: partition')
    .option('--time <t>', 'Slurm: time limit of each task, e.g. 02:00:00')
    .option('--mem <m>', 'Slurm: memory of each task, e.g. 8G')
    .option('--max-running <n>', 'Slurm: at most this many tasks at once', parseIntOption('--max-running'))
    .option('--setup <line>', 'Slurm: a shell line run before each task, e.g. "module load nodejs" (repeatable)', collect)
    .option('--sbatch-option <opt>', 'Slurm: another #SBATCH option, e.g. --account=lab (repeatable)', collect)
    .option('--node <path>', 'Slurm: node on the compute nodes, by absolute path (default: this one)')
    .option('--resume <id>', 'follow sweep ID again, resubmitting only its failed or missing tasks', parseIntOption('--resume'))
    .option('--list', 'the sweeps of this lab')
    .option('--show <id>', "a sweep's tasks and merged archive", parseIntOption('--show'))
    .action(
      run(async (cmd) => {
        const o = cmd.opts() as Opts;
        const quiet = !!(cmd.optsWithGlobals() as { json?: boolean }).json;
        return withLab(cmd, async (lab) => {
          if (o.list) {
            const all = await lab.call('sweeps.list', {});
            return {
              json: { sweeps: all },
              text: all.length ? table([['sweep', 'backend', 'tasks', 'imported', 'failed', 'dir'], ...all.map((s) => [s.sweepId, s.backend, s.tasks, s.imported, s.failed, s.dir])]) : 'No sweeps yet. Start one with: fool sweep --models lenet-mnist --encodings direct --seeds 1-4 --generations 200 --dir sweep1',
            };
          }
          if (o.show !== undefined) return summary(await lab.call('sweeps.get', { sweepId: o.show }));
          if (o.resume !== undefined) {
            const r = await lab.call('sweeps.resume', { sweepId: o.resume });
            if (!quiet) process.stderr.write(`Sweep ${r.sweepId}: ${r.resubmitted.length ? `resubmitting tasks ${r.resubmitted.join(', ')}` : 'nothing to resubmit'}\n`);
            const s = summary(await followJob(lab, r.jobId, r.sweepId, quiet));
            return { json: { ...(s.json as object), resubmitted: r.resubmitted }, text: s.text };
          }
          const spec = specFrom(o) as SweepSpec;
          const r = await lab.call('sweeps.start', { spec });
          if (!quiet) process.stderr.write(`Sweep ${r.sweepId} started\n`);
          return summary(await followJob(lab, r.jobId, r.sweepId, quiet));
        });
      }),
    );
}
