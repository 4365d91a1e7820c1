import { LIMITS } from '../../../../shared/limits';
import { formatConfidence } from '../../../../shared/confidence';
import { ENCODINGS, ENGINE_OPTION_PARAMS } from '../../../../shared/engine';
import { defineExperiment } from '../kind';
import { lineChart } from '../plots';
import { esc, htmlTable, reportHint, textTable } from '../report-html';
import { runReproduce, type ReproduceParams, type ReproduceResult } from '../reproduce';
import { reproduceTable, reproduceVerdict } from '../tables';

/** The paper's MNIST claim, measured: one run per encoding and seed (paper-spec section 6). */
export const reproduce = defineExperiment<ReproduceParams, ReproduceResult>({
  kind: 'reproduce',
  description: "the paper's MNIST claim, measured: one run per encoding and seed; per run, the first generation with every class at >= 99.99% and the median at the checkpoint and the end",
  params: [
    { name: 'model', type: 'model', label: 'Model', help: 'the model to fool', default: 'lenet-mnist', cli: '--model <name>' },
    { name: 'encodings', type: 'choices', label: 'Encodings', help: 'genome encodings, e.g. cppn,direct', choices: ENCODINGS, default: ['cppn', 'direct'], cli: '--encodings <list>' },
    { name: 'seeds', type: 'ints', label: 'Seeds', help: 'one run per seed and encoding', min: 0, default: [1, 2, 3], cli: '--seeds <list>' },
    { name: 'generations', type: 'int', label: 'Generations', help: 'length of every run (paper: 200)', ...LIMITS.generations, default: 200, cli: '--generations <n>' },
    { name: 'checkpoint', type: 'int', label: 'Checkpoint', help: 'generation by which every class should be at >= 99.99% (paper: 50)', min: 0, default: 50, cli: '--checkpoint <g>' },
    { name: 'batch', type: 'int', label: 'Batch', help: 'images per generation (paper: 200)', ...LIMITS.batch, cli: '--batch <n>', placeholder: 'the paper’s' },
    { name: 'options', type: 'group', label: 'Engine options', help: "the engine's named options (left out: the paper's choice)", fields: ENGINE_OPTION_PARAMS },
  ],
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
      ...(r.done
        ? []
        : ['', r.stoppedRun === undefined ? `Stopped after ${r.rows.length}/${runs} runs.` : `Stopped after ${r.rows.length}/${runs} runs; the unfinished run ${r.stoppedRun} is kept: fool resume ${r.stoppedRun} finishes it (outside this experiment).`]),
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
    classifierOptions: true,
    progress: { bar: '{label} |{bar}| gen {value}/{total}  median {median}  99.99%: {cells}' },
  },
});
