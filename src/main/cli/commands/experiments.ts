import { FoolError } from '../../../shared/errors';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ENCODINGS, type Encoding } from '../../../shared/engine';
import { Lab } from '../../core/lab';
import { runAblation } from '../../core/experiments/ablation';
import { exportFoolingDataset } from '../../core/experiments/dataset-export';
import { renderReport } from '../../core/experiments/report';
import { runReproduce } from '../../core/experiments/reproduce';
import { runRetrain, type RetrainParams } from '../../core/experiments/retrain';
import { ablationImagesTable, ablationTable, pct, reproduceTable, reproduceVerdict, retrainTable, transferImagesTable, transferTable } from '../../core/experiments/tables';
import { runTransfer } from '../../core/experiments/transfer';
import { ExperimentStore } from '../../core/store/experiments';
import type { Fill } from '../../core/analysis/motifs';
import { globals, parseIntOption, progressBar, run, stopOnSigint, table } from '../common';
import { classifierOptions, engineOptions, withClassifierOptions, withEngineOptions } from './shared-options';

/** The paper's experiments: fool transfer, retrain, ablate, dataset export, report, experiments list. */

function idList(name: string): (v: string) => number[] {
  return (v) => {
    const ids = v.split(',').map((s) => Number(s.trim()));
    if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError(`${name} takes run ids separated by commas, got "${v}"`);
    return ids;
  };
}

const nameList = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

function seedList(v: string): number[] {
  const seeds = nameList(v).map(Number);
  if (seeds.length === 0 || seeds.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new InvalidArgumentError(`--seeds takes whole numbers >= 0 separated by commas, got "${v}"`);
  return seeds;
}

function encodingList(v: string): Encoding[] {
  const list = nameList(v);
  const bad = list.filter((e) => !(ENCODINGS as readonly string[]).includes(e));
  if (list.length === 0 || bad.length) throw new InvalidArgumentError(`--encodings takes ${ENCODINGS.join(' and/or ')} separated by commas, got "${v}"`);
  return list as Encoding[];
}

const reportHint = (id: number) => `Experiment ${id} stored. Report: fool report ${id} --out DIR`;

/** The pair table as a matrix: rows = source model, columns = target model. */
function matrix(r: Awaited<ReturnType<typeof runTransfer>>['result'], pick: (p: (typeof r.pairs)[number]) => string): string[][] {
  return [['source \\ target', ...r.targets], ...r.sources.map((s) => [s, ...r.targets.map((t) => pick(r.pairs.find((p) => p.source === s && p.target === t)!))])];
}

export function registerExperiments(program: Command): void {
  withClassifierOptions(
    program
      .command('transfer')
      .description("transferability: classify every champion of the runs under other models; per pair, the share at >= 99% / 99.99% for the same class and the median")
      .requiredOption('--runs <ids>', 'runs (evolution or ascent) made against one label set, e.g. 3,4', idList('--runs'))
      .requiredOption('--models <names>', 'target models, e.g. lenet-s2,lenet-caffe (the runs\' own models are always included)', nameList)
      .option('--images', 'also print every image\'s confidence under every model'),
  ).action(
    run(async (cmd) => {
      const o = cmd.opts() as { runs: number[]; models: string[]; images?: boolean };
      const lab = new Lab(globals(cmd).dbPath);
      try {
        const { id, result } = await runTransfer(lab, { runs: o.runs, models: o.models }, { classifier: classifierOptions(cmd), onModel: (m) => process.stderr.write(`classifying under ${m}...\n`) });
        const text = [
          table(transferTable(result)),
          '',
          'Share at >= 99% (rows: evolved on; columns: shown to):',
          table(matrix(result, (p) => pct(p.at99, 1))),
          ...(o.images ? ['', table(transferImagesTable(result))] : []),
          '',
          reportHint(id),
        ];
        return { json: { experimentId: id, ...result }, text: text.join('\n') };
      } finally {
        lab.close();
      }
    }),
  );

  const reproduce = program
    .command('reproduce')
    .description("the paper's MNIST claim, measured: one run per encoding and seed; per run, the first generation with every class at >= 99.99% and the median at the checkpoint and the end")
    .option('--model <name>', 'the model to fool', 'lenet-mnist')
    .option('--encodings <list>', 'genome encodings, e.g. cppn,direct', encodingList, ['cppn', 'direct'] as Encoding[])
    .option('--seeds <list>', 'one run per seed and encoding', seedList, [1, 2, 3])
    .option('--generations <n>', 'length of every run (paper: 200)', parseIntOption('--generations'), 200)
    .option('--checkpoint <g>', 'generation by which every class should be at >= 99.99% (paper: 50)', parseIntOption('--checkpoint', 0), 50)
    .option('--batch <n>', 'images per generation (paper: 200)', parseIntOption('--batch'));
  withClassifierOptions(withEngineOptions(reproduce)).action(
    run(async (cmd) => {
      const o = cmd.opts() as { model: string; encodings: Encoding[]; seeds: number[]; generations: number; checkpoint: number; batch?: number };
      const lab = new Lab(globals(cmd).dbPath);
      let interrupt = (m: string): void => void process.stderr.write(`\n${m}\n`);
      const stop = stopOnSigint(undefined, (m) => interrupt(m));
      const runs = o.encodings.length * o.seeds.length;
      const bar = progressBar('{label} |{bar}| gen {value}/{total}  median {median}  99.99%: {cells}', o.generations);
      interrupt = (m) => bar.interrupt(m);
      try {
        const { id, result } = await runReproduce(
          lab,
          { model: o.model, encodings: o.encodings, seeds: o.seeds, generations: o.generations, checkpoint: o.checkpoint, batch: o.batch, options: engineOptions(cmd) },
          {
            classifier: classifierOptions(cmd),
            signal: stop.signal,
            onProgress: (e) => bar.update(e.generation, { label: `run ${e.index + 1}/${runs} (${e.encoding}, seed ${e.seed})`, median: pct(e.median, 4), cells: e.at9999 }),
          },
        );
        const text = [
          table(reproduceTable(result)),
          '',
          ...reproduceVerdict(result),
          ...(result.done ? [] : ['', `Stopped after ${result.rows.length}/${runs} runs; the unfinished run is kept (fool runs list).`]),
          '',
          reportHint(id),
        ];
        return { json: { experimentId: id, ...result }, text: text.join('\n') };
      } finally {
        bar.stop();
        stop.dispose();
        lab.close();
      }
    }),
  );

  withClassifierOptions(
    program
      .command('retrain')
      .description('the retraining loop (MNIST): evolve against DNN_i, add the fooling images as an 11th class, train DNN_i+1, repeat')
      .option('--model <name>', 'DNN_1', 'lenet-mnist')
      .option('--iterations <m>', 'networks to evolve against (DNN_1..DNN_m)', parseIntOption('--iterations'), 3)
      .option('--runs-per-iteration <k>', 'evolution runs against each DNN_i', parseIntOption('--runs-per-iteration'), 4)
      .option('--generations <n>', 'generations per run', parseIntOption('--generations'), 200)
      .option('--batch <n>', 'images per generation', parseIntOption('--batch'), 200)
      .addOption(new Option('--encoding <e>', 'genome encoding').choices([...ENCODINGS]).default('cppn'))
      .option('--seed <s>', 'first run seed (runs use seed, seed+1, ...; DNN_i+1 trains with seed+i)', parseIntOption('--seed', 0), 1)
      .option('--epochs <n>', 'training epochs of each DNN_i (i >= 2) on MNIST + the fooling class', parseIntOption('--epochs'), 2)
      .option('--train-limit <n>', 'train on the first n MNIST images only (0 = all 60,000)', parseIntOption('--train-limit', 0), 0)
      .option('--test-limit <n>', 'test on the first n MNIST test images only (0 = all 10,000)', parseIntOption('--test-limit', 0), 0)
      .option('--fooling-images <dir>', 'start the fooling class with these 28x28 images (a folder, or a "fool dataset export" folder)')
      .option('--work-dir <dir>', 'where DNN_2.. are written (default: beside the database)'),
  ).action(
    run(async (cmd) => {
      // The CLI's options are the experiment's parameters; --work-dir defaults beside the database.
      const o = cmd.opts() as Omit<RetrainParams, 'workDir'> & { workDir?: string };
      const { dbPath } = globals(cmd);
      const lab = new Lab(dbPath);
      try {
        const workDir = o.workDir ?? join(`${dbPath}.experiments`, `retrain-${Date.now()}`);
        const { id, result } = await runRetrain(
          lab,
          { model: o.model, iterations: o.iterations, runsPerIteration: o.runsPerIteration, generations: o.generations, batch: o.batch, encoding: o.encoding, seed: o.seed, epochs: o.epochs, trainLimit: o.trainLimit, testLimit: o.testLimit, foolingImages: o.foolingImages, workDir },
          { classifier: classifierOptions(cmd), onProgress: (e) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${e.message}\n`) },
        );
        return { json: { experimentId: id, ...result }, text: `${table(retrainTable(result))}\n\n${reportHint(id)}` };
      } finally {
        lab.close();
      }
    }),
  );

  withClassifierOptions(
    program
      .command('ablate')
      .description("repetition ablation over a run's champions: remove all copies but one of each repeated motif (and, as a control, the same area at random) and re-classify")
      .argument('<run>', 'run id', parseIntOption('run id'))
      .addOption(new Option('--fill <f>', 'what replaces removed pixels').choices(['mean', 'grey', 'black']).default('mean'))
      .option('--seed <s>', "seed of the control's random placement", parseIntOption('--seed', 0), 1)
      .option('--images', 'also print every champion'),
  ).action(
    run(async (cmd, runId) => {
      const o = cmd.opts() as { fill: Fill; seed: number; images?: boolean };
      const lab = new Lab(globals(cmd).dbPath);
      try {
        const { id, result } = await runAblation(lab, { runId: runId as number, fill: o.fill, seed: o.seed }, { classifier: classifierOptions(cmd) });
        const text = [table(ablationTable(result)), ...(o.images ? ['', table(ablationImagesTable(result))] : []), '', reportHint(id)];
        return { json: { experimentId: id, ...result }, text: text.join('\n') };
      } finally {
        lab.close();
      }
    }),
  );

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
        const lab = new Lab(globals(cmd).dbPath);
        try {
          const r = await exportFoolingDataset(lab, ids, o.out, { className: o.className });
          return { json: r, text: `${r.images} images in ${join(r.dir, o.className)}; index ${r.csv}` };
        } finally {
          lab.close();
        }
      }),
    );

  // `fool report` took experiment ids where every other command takes run ids: the canonical form
  // is now `fool experiments report`, and `fool report` (kept for scripts) says which id it wants.
  const reportAction = run(async (cmd, id) => {
    const o = cmd.opts() as { out: string };
    const lab = new Lab(globals(cmd).dbPath);
    try {
      const store = new ExperimentStore(lab.db);
      if (!store.list().some((e) => e.id === id) && lab.runs.list().some((r) => r.id === id)) {
        throw new FoolError('NOT_FOUND', `there is no experiment ${String(id)}: ${String(id)} is a run id in this lab`, `Reports are of experiments (ids from "fool experiments list"); a run's images are exported with "fool export ${String(id)} --out DIR"`);
      }
      const r = await renderReport(lab, id as number, o.out);
      return { json: { experimentId: r.experiment.id, kind: r.experiment.kind, dir: r.dir, files: r.files }, text: `${r.experiment.kind} report: ${join(r.dir, 'index.html')} (${r.files.length} files)` };
    } finally {
      lab.close();
    }
  });
  program
    .command('report')
    .description("an experiment's report (same as \"fool experiments report\"): index.html with tables, plots as PNG and SVG, result.json")
    .argument('<experiment>', 'EXPERIMENT id, not a run id (fool experiments list)', parseIntOption('experiment id'))
    .requiredOption('--out <dir>', 'the report folder (new or empty)')
    .action(reportAction);

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
      run(async (cmd) => {
        const lab = new Lab(globals(cmd).dbPath);
        try {
          const rows = new ExperimentStore(lab.db).list().map((e) => ({ id: e.id, kind: e.kind, createdAt: e.createdAt, finished: e.result !== null, params: e.params }));
          return { json: { experiments: rows }, text: rows.length ? table([['id', 'kind', 'created', 'finished'], ...rows.map((r) => [r.id, r.kind, r.createdAt, r.finished ? 'yes' : 'no'])]) : 'No experiments yet.' };
        } finally {
          lab.close();
        }
      }),
    );
}
