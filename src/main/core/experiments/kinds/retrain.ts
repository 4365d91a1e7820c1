import { LIMITS } from '../../../../shared/limits';
import { formatConfidence } from '../../../../shared/confidence';
import { join } from 'node:path';
import { ENCODINGS } from '../../../../shared/engine';
import { defineExperiment } from '../kind';
import { lineChart } from '../plots';
import { htmlTable, reportHint, textTable } from '../report-html';
import { runRetrain, type RetrainParams, type RetrainResult } from '../retrain';
import { retrainTable } from '../tables';

type Params = Omit<RetrainParams, 'workDir'> & { workDir?: string };

/** The retraining loop (paper section 3.5, MNIST): fooling images as an 11th class, m times. */
export const retrain = defineExperiment<Params, RetrainResult>({
  kind: 'retrain',
  description: 'the retraining loop (MNIST): evolve against DNN_i, add the fooling images as an 11th class, train DNN_i+1, repeat',
  params: [
    { name: 'model', type: 'model', label: 'Model', help: 'DNN_1', default: 'lenet-mnist', cli: '--model <name>' },
    { name: 'iterations', type: 'int', label: 'Iterations', help: 'networks to evolve against (DNN_1..DNN_m)', default: 3, cli: '--iterations <m>' },
    { name: 'runsPerIteration', type: 'int', label: 'Runs per iteration', help: 'evolution runs against each DNN_i', default: 4, cli: '--runs-per-iteration <k>' },
    { name: 'generations', type: 'int', label: 'Generations', help: 'generations per run', ...LIMITS.generations, default: 200, cli: '--generations <n>' },
    { name: 'batch', type: 'int', label: 'Batch', help: 'images per generation', ...LIMITS.batch, default: 200, cli: '--batch <n>' },
    { name: 'encoding', type: 'choice', label: 'Encoding', help: 'genome encoding', choices: ENCODINGS, default: 'cppn', cli: '--encoding <e>' },
    { name: 'seed', type: 'int', label: 'Seed', help: 'first run seed (runs use seed, seed+1, ...; DNN_i+1 trains with seed+i)', min: 0, default: 1, cli: '--seed <s>' },
    { name: 'epochs', type: 'int', label: 'Epochs', help: 'training epochs of each DNN_i (i >= 2) on MNIST + the fooling class', default: 2, cli: '--epochs <n>' },
    { name: 'trainLimit', type: 'int', label: 'Train images (0 = all)', help: 'train on the first n MNIST images only (0 = all 60,000)', min: 0, max: 60_000, default: 0, cli: '--train-limit <n>' },
    { name: 'testLimit', type: 'int', label: 'Test images (0 = all)', help: 'test on the first n MNIST test images only (0 = all 10,000)', min: 0, max: 10_000, default: 0, cli: '--test-limit <n>' },
    { name: 'foolingImages', type: 'path', label: 'Fooling images', help: 'start the fooling class with these 28x28 images (a folder, or a "fool dataset export" folder)', cli: '--fooling-images <dir>', placeholder: 'none: evolved ones only' },
    { name: 'workDir', type: 'path', label: 'Work folder', help: 'where DNN_2.. are written (default: beside the database)', cli: '--work-dir <dir>', placeholder: 'beside the database' },
  ],
  // DNN_2.. are written beside the database unless a folder is given.
  run: (p, ctx) =>
    runRetrain(
      ctx.lab,
      { ...p, workDir: p.workDir ?? join(`${ctx.lab.dbPath}.experiments`, `retrain-${Date.now()}`) },
      {
        classifier: ctx.classifier,
        signal: ctx.signal,
        onCreated: (experimentId) => ctx.ids({ experimentId }),
        onProgress: (e) => ctx.progress({ done: e.iteration - 1, total: p.iterations, message: e.message, detail: { iteration: e.iteration, step: e.step } }),
      },
    ),
  text: (r, { id }) => `${textTable(retrainTable(r))}\n\n${reportHint(id)}`,
  report: (r) => {
    const runs = [['iteration', 'run', 'seed', 'median best confidence', 'generations to 99.99%'], ...r.iterations.flatMap((it) => it.runs.map((x) => [`DNN_${it.iteration}`, String(x.runId), String(x.seed), formatConfidence(x.median), x.generationsTo9999 === null ? 'not reached' : String(x.generationsTo9999)]))];
    return {
      sections: [
        { title: 'Per iteration', html: htmlTable(retrainTable(r)) + (r.done ? '' : '<p><b>Not finished</b>: the iterations so far.</p>') },
        { title: 'Per run', html: htmlTable(runs) },
      ],
      plots: [
        {
          file: 'retrain-median.png',
          svg: lineChart(r.iterations.map((it) => ({ name: `DNN_${it.iteration}`, ys: it.medianByGeneration })), 'Median confidence per generation (median over runs)', 'generation', 'median confidence'),
          caption: 'Median confidence of the archive per generation, one line per DNN_i',
        },
      ],
    };
  },
  cli: {
    classifierOptions: true,
    progress: { line: (m) => `[${new Date().toISOString().slice(11, 19)}] ${m}` },
  },
});
