import { defineExperiment } from '../kind';
import { heatmap, histogram } from '../plots';
import { htmlTable, reportHint, textTable } from '../report-html';
import { pct, transferImagesTable, transferTable } from '../tables';
import { runTransfer, type TransferParams, type TransferResult } from '../transfer';

/** The pair table as a matrix: rows = source model, columns = target model. */
function matrix(r: TransferResult, pick: (p: TransferResult['pairs'][number]) => string): string[][] {
  return [['source \\ target', ...r.targets], ...r.sources.map((s) => [s, ...r.targets.map((t) => pick(r.pairs.find((p) => p.source === s && p.target === t)!))])];
}

/** Transferability: the champions of runs, classified under other models (paper section 3.4). */
export const transfer = defineExperiment<TransferParams, TransferResult>({
  kind: 'transfer',
  description: "transferability: classify every champion of the runs under other models; per pair, the share at >= 99% / 99.99% for the same class and the median",
  params: [
    { name: 'runs', type: 'runs', label: 'Source runs', help: 'runs (evolution or ascent) made against one label set, e.g. 3,4', required: true, cli: '--runs <ids>' },
    { name: 'models', type: 'models', label: 'Target models', help: "target models, e.g. lenet-s2,lenet-caffe (the runs' own models are always included)", required: true, cli: '--models <names>' },
  ],
  run: (p, ctx) =>
    runTransfer(ctx.lab, p, {
      classifier: ctx.classifier,
      signal: ctx.signal,
      onCreated: (experimentId) => ctx.ids({ experimentId }),
      onModel: (m) => ctx.progress({ message: `classifying under ${m}...` }),
      // Counts only: the message (one CLI line per model) changes per model, not per chunk.
      onProgress: (done, total) => ctx.progress({ done, total }),
    }),
  text: (r, { id, flags }) =>
    [
      textTable(transferTable(r)),
      '',
      'Share at >= 99% (rows: evolved on; columns: shown to):',
      textTable(matrix(r, (p) => pct(p.at99, 1))),
      ...(flags.images ? ['', textTable(transferImagesTable(r))] : []),
      '',
      reportHint(id),
    ].join('\n'),
  report: (r) => {
    const values = r.sources.map((s) => r.targets.map((t) => r.pairs.find((p) => p.source === s && p.target === t)?.at99 ?? Number.NaN));
    const medians = r.sources.map((s) => r.targets.map((t) => r.pairs.find((p) => p.source === s && p.target === t)?.median ?? Number.NaN));
    return {
      sections: [
        { title: 'Transfer per model pair', html: htmlTable(transferTable(r)) },
        { title: 'Per image: confidence for the evolved class under each model', html: htmlTable(transferImagesTable(r)) },
      ],
      plots: [
        { file: 'transfer-matrix.png', svg: heatmap(r.sources, r.targets, values, 'Share of images at >= 99% on the target', (v) => pct(v, 0)), caption: 'Transfer matrix: share of images at >= 99% for the same class' },
        { file: 'transfer-median.png', svg: heatmap(r.sources, r.targets, medians, 'Median confidence on the target', (v) => pct(v, 1)), caption: 'Transfer matrix: median confidence' },
        {
          file: 'transfer-histogram.png',
          svg: histogram(r.targets.map((t) => ({ name: t, values: r.images.map((im) => im.confidence[t]) })), 'Confidence for the evolved class', 'confidence'),
          caption: 'Confidence histograms per target model',
        },
      ],
    };
  },
  cli: {
    classifierOptions: true,
    stopMessage: null,
    flags: [{ flags: '--images', description: "also print every image's confidence under every model" }],
    progress: { line: (m) => m },
  },
});
