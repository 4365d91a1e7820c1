import { FoolError } from '../../../shared/errors';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { paramsSchema } from '../../../shared/experiment-params';
import type { ApiEvent } from '../../../shared/api';
import { experimentKinds, type ExperimentKind } from '../../core/api';
import { jobResult, parseIntOption, progressBar, run, table, withLab } from '../common';
import { writeRunReport } from './runs';
import { paramsFrom, withParams } from './params';
import { classifierOptions, withClassifierOptions } from './shared-options';

/**
 * The experiments: one command per kind of the registry (its options, progress and tables come from
 * the kind's file), plus dataset export, report and experiments list. Everything goes through the API.
 */

function idList(name: string): (v: string) => number[] {
  return (v) => {
    const ids = v.split(',').map((s) => Number(s.trim()));
    if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError(`${name} takes run ids separated by commas, got "${v}"`);
    return ids;
  };
}

/** How a kind's progress shows on stderr: a bar, or one line per message. */
function progressView(k: ExperimentKind<unknown, unknown>): { on(e: ApiEvent): void; stop(): void } {
  const p = k.cli.progress;
  let bar: ReturnType<typeof progressBar> | undefined;
  let said = '';
  return {
    on: (e) => {
      if (e.type !== 'job.progress' || !p) return;
      if ('bar' in p) (bar ??= progressBar(p.bar, e.total)).update(e.done, e.detail);
      // A job's message stays the same while its counts move: one line per new message.
      else if (e.message && e.message !== said) process.stderr.write(`${p.line((said = e.message))}\n`);
    },
    stop: () => bar?.stop(),
  };
}

function registerKind(program: Command, k: ExperimentKind<unknown, unknown>): void {
  let cmd = withParams(program.command(k.kind).description(k.cli.description ?? k.description), k.params);
  for (const f of k.cli.flags ?? []) cmd.option(f.flags, f.description);
  if (k.cli.classifierOptions) cmd = withClassifierOptions(cmd);
  const schema = paramsSchema(k.params);
  cmd.action(
    run(async (c, ...args) => {
      const flags = c.opts();
      const params = paramsFrom(k.params, flags, args);
      return withLab(
        c,
        async (lab) => {
          const view = progressView(k);
          try {
            const { jobId } = await lab.call('experiments.start', { kind: k.kind, params });
            const { experimentId, ...result } = jobResult<{ experimentId: number }>(await lab.follow(jobId, view.on, k.cli.stopMessage));
            // The API took them, so they parse: with the defaults filled in, as the kind's run saw them.
            return { json: { experimentId, ...result }, text: k.text(result, { id: experimentId, params: schema.parse(params), flags }) };
          } finally {
            view.stop();
          }
        },
        { classifier: k.cli.classifierOptions ? classifierOptions(c) : undefined },
      );
    }),
  );
}

export function registerExperiments(program: Command): void {
  for (const k of experimentKinds()) registerKind(program, k);

  program
    .command('dataset')
    .description('fooling images as a training set')
    .command('export')
    .description("the runs' fooling images (first and last champion of every cell) as an ImageFolder (DIR/fooling/*.png) plus DIR/fooling.csv, to fine-tune a large network elsewhere")
    .argument('<runs...>', 'run ids')
    .requiredOption('--out <dir>', 'the dataset folder')
    .option('--class-name <name>', 'the class folder', 'fooling')
    .action(
      run(async (cmd, runs) => {
        const o = cmd.opts() as { out: string; className: string };
        const ids = (runs as string[]).map((r) => idList('run ids')(r)).flat();
        return withLab(cmd, async (lab) => {
          const r = await lab.call('dataset.export', { runs: ids, outDir: resolve(o.out), className: o.className });
          return { json: r, text: `${r.images} images in ${join(r.dir, o.className)}; index ${r.csv}` };
        });
      }),
    );

  // `fool report` took experiment ids where every other command takes run ids: the canonical form
  // is now `fool experiments report`, and `fool report` (kept for scripts) says which id it wants.
  const experimentReport = async (cmd: Command, id: unknown) => {
    const o = cmd.opts() as { out: string };
    return withLab(cmd, async (lab) => {
      const known = await lab.call('experiments.list', {});
      if (!known.some((e) => e.id === id)) {
        const runs = await lab.call('runs.list', {});
        if (runs.some((r) => r.runId === id)) {
          throw new FoolError('NOT_FOUND', `there is no experiment ${String(id)}: ${String(id)} is a run id in this lab`, `Reports are of experiments (ids from "fool experiments list"); a run's report is "fool report --run ${String(id)} --out DIR", its images are exported with "fool export ${String(id)} --out DIR"`);
        }
      }
      const r = await lab.call('experiments.report', { experimentId: id as number, outDir: resolve(o.out) });
      return { json: r, text: `${r.kind} report: ${join(r.dir, 'index.html')} (${r.files.length} files)` };
    });
  };
  const reportAction = run(experimentReport);
  program
    .command('report')
    .description("an experiment's report (fool report EXPERIMENT, same as fool experiments report) or a run's (fool report --run RUN, same as fool runs report): index.html with tables, plots as PNG and SVG")
    .argument('[experiment]', 'EXPERIMENT id, not a run id (fool experiments list); for a run, --run RUN', parseIntOption('experiment id'))
    .option('--run <run>', "a run's report instead (same as fool runs report RUN)", parseIntOption('run id'))
    .requiredOption('--out <dir>', 'the report folder (new or empty)')
    .action(
      run(async (cmd, id) => {
        const o = cmd.opts() as { out: string; run?: number };
        if (o.run !== undefined && id !== undefined) throw new FoolError('BAD_INPUT', `fool report got both an experiment id (${String(id)}) and --run ${o.run}`, 'Pass one: fool report EXPERIMENT --out DIR, or fool report --run RUN --out DIR');
        if (o.run !== undefined) return writeRunReport(cmd, o.run, o.out);
        if (id === undefined) throw new FoolError('BAD_INPUT', 'fool report needs an experiment id or --run RUN', 'Pass one: fool report EXPERIMENT --out DIR (fool experiments list), or fool report --run RUN --out DIR (fool runs list)');
        return experimentReport(cmd, id);
      }),
    );

  const experiments = program.command('experiments').description('experiments stored in this lab: list, report');
  experiments
    .command('report')
    .description("an experiment's report: index.html with tables, plots as PNG and SVG, result.json")
    .argument('<experiment>', 'experiment id (fool experiments list)', parseIntOption('experiment id'))
    .requiredOption('--out <dir>', 'the report folder (new or empty)')
    .action(reportAction);
  experiments
    .command('list')
    .description('every experiment: id, kind, date, whether it finished')
    .action(
      run(async (cmd) =>
        withLab(cmd, async (lab) => {
          const rows = await lab.call('experiments.list', {});
          return { json: { experiments: rows }, text: rows.length ? table([['id', 'kind', 'created', 'finished'], ...rows.map((r) => [r.id, r.kind, r.createdAt, r.finished ? 'yes' : r.cancelled ? 'cancelled' : 'no'])]) : 'No experiments yet.' };
        }),
      ),
    );
}
