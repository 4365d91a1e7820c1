import { LIMITS } from '../../../../shared/limits';
import { formatConfidence } from '../../../../shared/confidence';
import { join } from 'node:path';
import { z } from 'zod';
import { ENCODINGS } from '../../../../shared/engine';
import { defineExperiment } from '../kind';
import { lineChart } from '../plots';
import { htmlTable, intOption, reportHint, textTable } from '../report-html';
import { runRetrain, type RetrainParams, type RetrainResult } from '../retrain';
import { retrainTable } from '../tables';

type Params = Omit<RetrainParams, 'workDir'> & { workDir?: string };

/** The retraining loop (paper section 3.5, MNIST): fooling images as an 11th class, m times. */
export const retrain = defineExperiment<Params, RetrainResult>({
  kind: 'retrain',
  description: 'the retraining loop (MNIST): evolve against DNN_i, add the fooling images as an 11th class, train DNN_i+1, repeat',
  params: z
    .object({
      model: z.string().min(1).default('lenet-mnist'),
      iterations: z.number().int().positive().default(3),
      runsPerIteration: z.number().int().positive().default(4),
      generations: z.number().int().positive().default(200),
      batch: z.number().int().positive().default(200),
      encoding: z.enum(ENCODINGS).default('cppn'),
      seed: z.number().int().nonnegative().default(1),
      epochs: z.number().int().positive().default(2),
      trainLimit: z.number().int().nonnegative().default(0),
      testLimit: z.number().int().nonnegative().default(0),
      foolingImages: z.string().min(1).optional(),
      workDir: z.string().min(1).optional(),
    })
    .strict(),
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
    description: 'the retraining loop (MNIST): evolve against DNN_i, add the fooling images as an 11th class, train DNN_i+1, repeat',
    classifierOptions: true,
    options: [
      { flags: '--model <name>', description: 'DNN_1', default: 'lenet-mnist' },
      { flags: '--iterations <m>', description: 'networks to evolve against (DNN_1..DNN_m)', parse: intOption('--iterations'), default: 3 },
      { flags: '--runs-per-iteration <k>', description: 'evolution runs against each DNN_i', parse: intOption('--runs-per-iteration'), default: 4 },
      { flags: '--generations <n>', description: 'generations per run', parse: intOption('--generations', LIMITS.generations.min, LIMITS.generations.max), default: 200 },
      { flags: '--batch <n>', description: 'images per generation', parse: intOption('--batch', LIMITS.batch.min, LIMITS.batch.max), default: 200 },
      { flags: '--encoding <e>', description: 'genome encoding', choices: ENCODINGS, default: 'cppn' },
      { flags: '--seed <s>', description: 'first run seed (runs use seed, seed+1, ...; DNN_i+1 trains with seed+i)', parse: intOption('--seed', 0), default: 1 },
      { flags: '--epochs <n>', description: 'training epochs of each DNN_i (i >= 2) on MNIST + the fooling class', parse: intOption('--epochs'), default: 2 },
      { flags: '--train-limit <n>', description: 'train on the first n MNIST images only (0 = all 60,000)', parse: intOption('--train-limit', 0, 60_000), default: 0 },
      { flags: '--test-limit <n>', description: 'test on the first n MNIST test images only (0 = all 10,000)', parse: intOption('--test-limit', 0, 10_000), default: 0 },
      { flags: '--fooling-images <dir>', description: 'start the fooling class with these 28x28 images (a folder, or a "fool dataset export" folder)' },
      { flags: '--work-dir <dir>', description: 'where DNN_2.. are written (default: beside the database)' },
    ],
    params: (o) => ({
      model: o.model as string,
      iterations: o.iterations as number,
      runsPerIteration: o.runsPerIteration as number,
      generations: o.generations as number,
      batch: o.batch as number,
      encoding: o.encoding as Params['encoding'],
      seed: o.seed as number,
      epochs: o.epochs as number,
      trainLimit: o.trainLimit as number,
      testLimit: o.testLimit as number,
      ...(o.foolingImages !== undefined ? { foolingImages: o.foolingImages as string } : {}),
      ...(o.workDir !== undefined ? { workDir: o.workDir as string } : {}),
    }),
    progress: { line: (m) => `[${new Date().toISOString().slice(11, 19)}] ${m}` },
  },
});
