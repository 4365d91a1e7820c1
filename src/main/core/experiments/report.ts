import { writeFileSync } from 'node:fs';
import { prepareOutDir } from '../out-dir';
import { join } from 'node:path';
import sharp from 'sharp';
import { FoolError } from '../../../shared/errors';
import type { Lab } from '../lab';
import { ExperimentStore, type ExperimentRow } from '../store/experiments';
import type { AblationResult } from './ablation';
import { heatmap, histogram, lineChart } from './plots';
import type { ReproduceResult } from './reproduce';
import type { RetrainResult } from './retrain';
import { ablationImagesTable, ablationTable, pct, reproduceTable, reproduceVerdict, retrainTable, transferImagesTable, transferTable } from './tables';
import type { TransferResult } from './transfer';

/**
 * An experiment's report from the database: index.html (tables and plots), each plot as PNG
 * (and SVG), and result.json. Rendered again at any time from the stored result.
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function htmlTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

interface Section {
  title: string;
  html: string;
}

interface Plot {
  file: string;
  svg: string;
  caption: string;
}

function transferReport(r: TransferResult): { sections: Section[]; plots: Plot[] } {
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
}

function retrainReport(r: RetrainResult): { sections: Section[]; plots: Plot[] } {
  const runs = [['iteration', 'run', 'seed', 'median best confidence', 'generations to 99.99%'], ...r.iterations.flatMap((it) => it.runs.map((x) => [`DNN_${it.iteration}`, String(x.runId), String(x.seed), pct(x.median), x.generationsTo9999 === null ? 'not reached' : String(x.generationsTo9999)]))];
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
}

function ablationReport(r: AblationResult): { sections: Section[]; plots: Plot[] } {
  const rep = r.images.filter((i) => i.ablated !== null);
  return {
    sections: [
      { title: `Summary over run ${r.runId}'s champions (${r.model})`, html: htmlTable(ablationTable(r)) },
      { title: 'Per champion', html: htmlTable(ablationImagesTable(r)) },
    ],
    plots: [
      {
        file: 'ablation-drop.png',
        svg: histogram(
          [
            { name: 'repeats removed', values: rep.map((i) => i.before - i.ablated!) },
            { name: 'random control', values: rep.map((i) => i.before - i.control!) },
          ],
          'Confidence drop (before - after)',
          'drop',
          -0.1,
          1,
          11,
        ),
        caption: 'Confidence drop after removing all copies but one, and after removing the same area at random',
      },
    ],
  };
}

function reproduceReport(lab: Lab, r: ReproduceResult): { sections: Section[]; plots: Plot[] } {
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
}

export async function renderReport(lab: Lab, id: number, outDir: string): Promise<{ dir: string; files: string[]; experiment: ExperimentRow }> {
  const e = new ExperimentStore(lab.db).get(id);
  if (e.result === null) throw new FoolError('BAD_INPUT', `experiment ${id} (${e.kind}) has no result yet`, 'Wait for it to finish, or run it again');
  const dir = prepareOutDir(outDir, 'report');
  const { sections, plots } =
    e.kind === 'transfer'
      ? transferReport(e.result as TransferResult)
      : e.kind === 'retrain'
        ? retrainReport(e.result as RetrainResult)
        : e.kind === 'reproduce'
          ? reproduceReport(lab, e.result as ReproduceResult)
          : ablationReport(e.result as AblationResult);
  const files: string[] = [];
  for (const p of plots) {
    writeFileSync(join(dir, p.file.replace(/\.png$/, '.svg')), p.svg);
    await sharp(Buffer.from(p.svg)).png().toFile(join(dir, p.file));
    files.push(p.file, p.file.replace(/\.png$/, '.svg'));
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fooling Lab: experiment ${e.id} (${e.kind})</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:1rem}</style></head>
<body><h1>Experiment ${e.id}: ${esc(e.kind)}</h1>
<p>Created ${esc(e.createdAt)}. Parameters: <code>${esc(JSON.stringify(e.params))}</code></p>
${sections.map((s) => `<h2>${esc(s.title)}</h2>\n${s.html}`).join('\n')}
<h2>Plots</h2>
${plots.map((p) => `<figure><img src="${p.file}" alt="${esc(p.caption)}"><figcaption>${esc(p.caption)}</figcaption></figure>`).join('\n')}
</body></html>
`;
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ id: e.id, kind: e.kind, params: e.params, result: e.result }, null, 2) + '\n');
  files.push('index.html', 'result.json');
  return { dir, files, experiment: e };
}
