import { LIMITS } from '../../../../shared/limits';
import { formatConfidence } from '../../../../shared/confidence';
import { z } from 'zod';
import { ENCODINGS, type Encoding } from '../../../../shared/engine';
import { defineExperiment } from '../kind';
import { lineChart } from '../plots';
import { esc, htmlTable, intOption, nameList, reportHint, textTable } from '../report-html';
import { runReproduce, type ReproduceParams, type ReproduceResult } from '../reproduce';
import { reproduceTable, reproduceVerdict } from '../tables';

function seedList(v: string): number[] {
  const seeds = nameList(v).map(Number);
  if (seeds.length === 0 || seeds.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new Error(`--seeds takes whole numbers >= 0 separated by commas, got "${v}"`);
  return seeds;
}

function encodingList(v: string): Encoding[] {
  const list = nameList(v);
  const bad = list.filter((e) => !(ENCODINGS as readonly string[]).includes(e));
  if (list.length === 0 || bad.length) throw new Error(`--encodings takes ${ENCODINGS.join(' and/or ')} separated by commas, got "${v}"`);
  return list as Encoding[];
}

const EngineOptionsSchema = z
  .object({
    colorSpace: z.enum(['hsv', 'hls']).optional(),
    coordinates: z.enum(['pixel', 'normalized']).optional(),
    rateSchedule: z.enum(['halve-every-1000', 'fixed']).optional(),
    crossover: z.enum(['none', 'sbx']).optional(),
  })
  .strict();

/** The paper's MNIST claim, measured: one run per encoding and seed (paper-spec section 6). */
export const reproduce = defineExperiment<ReproduceParams, ReproduceResult>({
  kind: 'reproduce',
  description: "the paper's MNIST claim, measured: one run per encoding and seed; per run, the first generation with every class at >= 99.99% and the median at the checkpoint and the end",
  params: z
    .object({
      model: z.string().min(1).default('lenet-mnist'),
      encodings: z.array(z.enum(ENCODINGS)).min(1).default(['cppn', 'direct']),
      seeds: z.array(z.number().int().nonnegative()).min(1).default([1, 2, 3]),
      generations: z.number().int().positive().default(200),
      checkpoint: z.number().int().nonnegative().default(50),
      batch: z.number().int().positive().optional(),
      options: EngineOptionsSchema.default({}),
    })
    .strict(),
  run: (p, ctx) => {
    const runs = p.encodings.length * p.seeds.length;
    return runReproduce(ctx.lab, p, {
      classifier: ctx.classifier,
      signal: ctx.signal,
      onCreated: (experimentId) => ctx.ids({ experimentId }),
      onProgress: (e) =>
        ctx.progress({
          done: e.generation,
          total: e.generations,
          message: `run ${e.index + 1}/${runs} (${e.encoding}, seed ${e.seed}): generation ${e.generation}/${e.generations}`,
          detail: { label: `run ${e.index + 1}/${runs} (${e.encoding}, seed ${e.seed})`, median: formatConfidence(e.median), cells: e.at9999, runId: e.runId },
        }),
    });
  },
  text: (r, { id, params }) => {
    const runs = params.encodings.length * params.seeds.length;
    return [
      textTable(reproduceTable(r)),
      '',
      ...reproduceVerdict(r),
      ...(r.done ? [] : ['', `Stopped after ${r.rows.length}/${runs} runs; the unfinished run is kept (fool runs list).`]),
      '',
      reportHint(id),
    ].join('\n');
  },
  report: (r, lab) => {
    const curve = (runId: number) => lab.runs.stats(runId).map((s) => s.median);
    return {
      sections: [{ title: `MNIST claim on ${r.model}: one row per run`, html: htmlTable(reproduceTable(r)) + reproduceVerdict(r).map((v) => `<p>${esc(v)}</p>`).join('') }],
      plots: [
        {
          file: 'reproduce-median.png',
          svg: lineChart(r.rows.map((x) => ({ name: `${x.encoding} seed ${x.seed}`, ys: curve(x.runId) })), 'Median confidence per generation', 'generation', 'median confidence'),
          caption: 'Median own-class confidence of the archive per generation, one line per run',
        },
      ],
    };
  },
  cli: {
    description: "the paper's MNIST claim, measured: one run per encoding and seed; per run, the first generation with every class at >= 99.99% and the median at the checkpoint and the end",
    classifierOptions: true,
    engineOptions: true,
    options: [
      { flags: '--model <name>', description: 'the model to fool', default: 'lenet-mnist' },
      { flags: '--encodings <list>', description: 'genome encodings, e.g. cppn,direct', parse: encodingList, default: ['cppn', 'direct'] },
      { flags: '--seeds <list>', description: 'one run per seed and encoding', parse: seedList, default: [1, 2, 3] },
      { flags: '--generations <n>', description: 'length of every run (paper: 200)', parse: intOption('--generations', LIMITS.generations.min, LIMITS.generations.max), default: 200 },
      { flags: '--checkpoint <g>', description: 'generation by which every class should be at >= 99.99% (paper: 50)', parse: intOption('--checkpoint', 0), default: 50 },
      { flags: '--batch <n>', description: 'images per generation (paper: 200)', parse: intOption('--batch', LIMITS.batch.min, LIMITS.batch.max) },
    ],
    params: (o, _args, engine) => ({
      model: o.model as string,
      encodings: o.encodings as Encoding[],
      seeds: o.seeds as number[],
      generations: o.generations as number,
      checkpoint: o.checkpoint as number,
      batch: o.batch as number | undefined,
      options: engine,
    }),
    progress: { bar: '{label} |{bar}| gen {value}/{total}  median {median}  99.99%: {cells}' },
  },
});
