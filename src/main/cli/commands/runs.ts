import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { ImportResult } from '../../../shared/api';
import { formatConfidence } from '../../../shared/confidence';
import { FoolError } from '../../../shared/errors';
import { firstName } from '../../../shared/labels';
import { jobResult, parseIntOption, run, table, withLab } from '../common';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the runs kept in this lab');

  runs
    .command('list')
    .description('every run with its model, encoding, progress and best results')
    .action(
      run(async (cmd) =>
        withLab(cmd, async (lab) => {
          // `live` says whether this process runs it: never, for a command that only lists.
          const list = (await lab.call('runs.list', {})).map(({ live: _live, ...r }) => r);
          const text = list.length
            ? table([
                ['run', 'kind', 'model', 'encoding', 'seed', 'status', 'generation', 'median', '>= 99.99%'],
                ...list.map((r) => [r.runId, r.kind, r.model, r.encoding, r.seed, r.status, `${r.generation < 0 ? '-' : r.generation}/${r.generations ?? '-'}`, r.median === null ? '-' : formatConfidence(r.median), r.at9999 === null ? '-' : `${r.at9999}/${r.aimed}`]),
              ])
            : 'No runs yet. Start one with: fool evolve --model lenet-mnist';
          return { json: { runs: list }, text };
        }),
      ),
    );

  registerRunTransfer(runs);

  runs
    .command('report')
    .description("a run's report as a folder (the app's report page): index.html, curves as PNG and SVG, champion thumbnails, report.json")
    .argument('<run>', 'run id (fool runs list)', parseIntOption('run id'))
    .requiredOption('--out <dir>', 'the report folder')
    .action(run(async (cmd, runId) => writeRunReport(cmd, runId as number, (cmd.opts() as { out: string }).out)));

  runs
    .command('show')
    .description("a run's settings and its statistics per generation")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .action(
      run(async (cmd, runId) =>
        withLab(cmd, async (lab) => {
          const r = await lab.call('runs.report', { runId: runId as number });
          const rows = r.stats.map((s) => [s.generation, formatConfidence(s.median), formatConfidence(s.mean), formatConfidence(s.max), formatConfidence(s.min), s.at99, s.at9999, s.evaluationsPerSecond.toFixed(0)]);
          const text = [
            `Run ${r.runId}: ${r.kind} ${r.encoding} on ${r.model}, seed ${r.seed}, ${r.status}, ${r.lastGeneration < 0 ? 'no generation committed yet' : `generation ${r.lastGeneration}`}, ${r.evaluations} evaluations in ${r.seconds.toFixed(1)} s`,
            `settings ${JSON.stringify(r.settings)}`,
            ...(r.origin ? [`imported ${r.origin.importedAt} from ${r.origin.sourcePath} (host ${r.origin.sourceHost}); born as run ${r.origin.runId} of lab ${r.origin.lab}`] : []),
            table([['gen', 'median', 'mean', 'max', 'min', '>=99%', '>=99.99%', 'img/s'], ...rows]),
          ].join('\n');
          return {
            json: { runId: r.runId, kind: r.kind, model: r.model, encoding: r.encoding, seed: r.seed, status: r.status, settings: r.settings, stats: r.stats, origin: r.origin },
            text,
          };
        }),
      ),
    );
}

/** `fool runs report RUN` and `fool report --run RUN`: the run's report folder. */
export function writeRunReport(cmd: Command, runId: number, out: string) {
  return withLab(cmd, async (lab) => {
    const r = await lab.call('runs.writeReport', { runId, outDir: resolve(out) });
    return { json: r, text: `run ${r.runId} report: ${join(r.dir, 'index.html')} (${r.files.length} files; ${r.below9999.length} of ${r.classes} classes below 99.99%)` };
  });
}

/** "3,5,8" -> [3, 5, 8]. */
function parseIdList(v: string): number[] {
  const ids = v.split(',').map((x) => x.trim());
  if (ids.some((x) => !/^[1-9][0-9]*$/.test(x))) throw new FoolError('BAD_INPUT', `--runs "${v}" is not a list of run ids`, 'Pass run ids of the other lab separated by commas, e.g. --runs 3,5');
  return ids.map(Number);
}

export function registerRunTransfer(runs: Command): void {
  runs
    .command('import')
    .description('copy runs (with their models and experiments) from another lab file into this one; a second import adds nothing')
    .argument('<file>', 'the other lab (a .db file); opened read-only')
    .option('--runs <ids>', 'only these runs of the other lab (e.g. 3,5)')
    .action(
      run(async (cmd, file) => {
        const o = cmd.opts() as { runs?: string };
        const ids = o.runs === undefined ? undefined : parseIdList(o.runs);
        return withLab(cmd, async (lab) => {
          const { jobId } = await lab.call('runs.import', { file: file as string, runs: ids });
          const quiet = (cmd.optsWithGlobals() as { json?: boolean }).json;
          // One transaction: Ctrl-C cannot stop it half-way (and a killed import changes nothing).
          const r = jobResult<ImportResult>(await lab.follow(jobId, (e) => e.type === 'job.progress' && !quiet && process.stderr.write(`${e.message}\n`), null));
          const lines = [
            `From ${r.source} (made on ${r.sourceHost}): ${r.imported.length} run${r.imported.length === 1 ? '' : 's'} imported, ${r.skipped.length} already here`,
            ...r.imported.map((i) => `  run ${i.sourceRunId} -> run ${i.runId}`),
            ...r.skipped.map((i) => `  run ${i.sourceRunId} is run ${i.runId} here (skipped)`),
            ...r.models.map((m) => `  model ${m.name}${m.as === m.name ? '' : ` as ${m.as}`}: ${m.copied ? 'copied' : 'already here (same file)'}`),
            ...r.experiments.map((e) => `  experiment ${e.sourceExperimentId} (${e.kind}) -> ${e.experimentId}`),
          ];
          return { json: r, text: lines.join('\n') };
        });
      }),
    );

  runs
    .command('export-lab')
    .description('write a new lab file holding one run and its models, to share or to import elsewhere')
    .argument('<run>', 'run id', parseIntOption('run id'))
    .requiredOption('--out <file>', 'the new lab file (.db); must not exist')
    .action(
      run(async (cmd, runId) => {
        const o = cmd.opts() as { out: string };
        return withLab(cmd, async (lab) => {
          const r = await lab.call('runs.exportLab', { runId: runId as number, out: o.out });
          return { json: r, text: `Run ${runId as number} written to ${r.file} (as run ${r.runId})${r.models.length ? `, with model ${r.models.join(', ')}` : ''}. Import it with: fool runs import ${r.file}` };
        });
      }),
    );
}

/**
 * "7", or for ImageNet "2 great white shark, 4 hammerhead, ... (+57 more)": a label's first name
 * with its class index (ImageNet labels hold commas themselves, so whole labels joined by commas
 * cannot be told apart), at most 6, then how many more.
 */
function classesWon(classes: number[], labels: string[]): string {
  const MAX = 6;
  const names = classes.slice(0, MAX).map((c, i) => {
    const name = firstName(labels[i] ?? '');
    return name === String(c) || name === '' ? String(c) : `${c} ${name}`;
  });
  return names.join(', ') + (classes.length > MAX ? ` (+${classes.length - MAX} more)` : '');
}

export function registerLineage(program: Command): void {
  program
    .command('lineage')
    .description("the chain of ancestors of a class's champion, back to its random genome")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .requiredOption('--class <c>', 'class index', parseIntOption('--class', 0))
    .action(
      run(async (cmd, runId) => {
        const o = cmd.opts() as { class: number };
        return withLab(cmd, async (lab) => {
          const l = await lab.call('lineage.get', { runId: runId as number, class: o.class });
          // confidence: its probability for the champion's class when it was born (null if not in its top 5).
          const chain = l.chain.map((c) => ({ individualId: c.individualId, parentId: c.parentId, generation: c.generation, confidence: c.confidence, classesHeld: c.classesHeld, top: c.top }));
          const text = [
            `Lineage of class ${o.class} (${l.label}) in run ${l.runId}: ${chain.length} individuals`,
            table([['gen', 'individual', 'conf. for class', 'classes won at birth'], ...l.chain.map((c) => [c.generation, c.individualId, c.confidence === null ? '-' : formatConfidence(c.confidence), classesWon(c.classesHeld, c.labelsHeld)])]),
          ].join('\n');
          return { json: { runId: l.runId, class: o.class, label: l.label, chain }, text };
        });
      }),
    );
}
