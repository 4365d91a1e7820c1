import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatConfidence, nines, ninesLabel } from '../../../shared/confidence';
import { lineChart } from '../experiments/plots';
import { esc, htmlTable } from '../experiments/report-html';
import type { Lab } from '../lab';
import { encodePng, writeSvgAsPng } from '../models/png';
import { prepareOutDir } from '../out-dir';
import { individualImage } from '../individual-image';

/**
 * A run's report as a folder, the same report the app's run page shows: index.html (facts, curves,
 * the classes still below 99.99%, the final archive with thumbnails, settings), each plot as PNG and
 * SVG, the champions' thumbnails under champions/, and report.json with the figures.
 */

/** The log-odds axis the app draws confidence on: 0 nines (0%) to 6 (99.9999%), beyond clipped. */
const NINES_MAX = 6;
const ninesTicks: [number, string][] = [0, 1, 2, 3, 4, 5, 6].map((n) => [n, ninesLabel(n)]);

export interface RunReportFiles {
  runId: number;
  dir: string;
  files: string[];
  classes: number;
  /** Classes whose cell is empty or below 0.9999, weakest first (confidence null: never won). */
  below9999: { class: number; label: string; confidence: number | null }[];
}

export async function writeRunReport(lab: Lab, runId: number, outDir: string): Promise<RunReportFiles> {
  const run = lab.runs.get(runId);
  // New, empty, or written by the lab before: a user's own folder is never written over.
  const dir = prepareOutDir(outDir, 'run report');
  mkdirSync(join(dir, 'champions'), { recursive: true });
  const stats = lab.runs.stats(runId);
  const champions = lab.runs.champions(runId).sort((a, b) => a.class - b.class);
  const byClass = new Map(champions.map((c) => [c.class, c]));
  const below9999 = run.labels
    .map((label, cls) => ({ class: cls, label, confidence: byClass.get(cls)?.confidence ?? null }))
    .filter((c) => c.confidence === null || c.confidence < 0.9999)
    .sort((a, b) => (a.confidence ?? -1) - (b.confidence ?? -1));

  const files: string[] = [];
  const plots = [
    {
      file: 'confidence.png',
      caption: 'Median, mean and best champion confidence per generation (log-odds axis: 99%, 99.99% and 99.9999% evenly apart)',
      svg: lineChart(
        (['median', 'mean', 'max'] as const).map((k) => ({ name: k, ys: stats.map((s) => Math.min(NINES_MAX, nines(s[k]))) })),
        `Run ${runId}: confidence per generation`,
        'generation',
        'confidence',
        { max: NINES_MAX, ticks: ninesTicks },
      ),
    },
    {
      file: 'cells.png',
      caption: `Cells (of ${run.classes}) at 99% or more and at 99.99% or more per generation`,
      svg: lineChart(
        [
          { name: '>= 99%', ys: stats.map((s) => s.at99) },
          { name: '>= 99.99%', ys: stats.map((s) => s.at9999) },
        ],
        `Run ${runId}: cells won`,
        'generation',
        'cells',
        { max: run.classes, ticks: cellTicks(run.classes) },
      ),
    },
  ];
  for (const p of plots) {
    const svgFile = p.file.replace(/\.png$/, '.svg');
    writeFileSync(join(dir, svgFile), p.svg);
    await writeSvgAsPng(join(dir, p.file), p.svg);
    files.push(p.file, svgFile);
  }

  // Small images scaled by a whole factor (28 -> 84), larger ones shown at 96 pixels.
  const thumbs: string[] = [];
  for (const c of champions) {
    const img = individualImage(lab, runId, c.individualId);
    const side = Math.max(img.width, img.height);
    const size = side < 96 ? side * Math.floor(96 / side) : 96;
    const file = `champions/${String(c.class).padStart(4, '0')}.png`;
    writeFileSync(join(dir, file), await encodePng(img, { size, nearest: side < 96 }));
    files.push(file);
    thumbs.push(
      `<figure><img src="${file}" alt="${esc(c.label)}" width="${size}"><figcaption>${esc(c.label)}<br><span class="${c.confidence >= 0.9999 ? 'good' : ''}">${esc(formatConfidence(c.confidence))}</span><br><small>gen ${c.generation}</small></figcaption></figure>`,
    );
  }

  const last = stats.at(-1);
  const facts = htmlTable([
    ['fact', 'value'],
    ['kind', run.kind],
    ['model', run.model],
    ['encoding', run.encoding],
    ['seed', String(run.seed)],
    ['status', run.status],
    ['generations', String(run.lastGeneration)],
    ['started', run.createdAt],
    ['last written', run.updatedAt],
    ['compute time', `${run.seconds.toFixed(1)} s`],
    ['images evaluated', run.evaluations.toLocaleString('en-US')],
    ['median champion', formatConfidence(last?.median)],
    ['cells >= 99%', `${last?.at99 ?? 0} of ${run.classes}`],
    ['cells >= 99.99%', `${last?.at9999 ?? 0} of ${run.classes}`],
  ]);
  const belowHtml = below9999.length
    ? htmlTable([['class', 'label', 'confidence'], ...below9999.map((c) => [String(c.class), c.label, c.confidence === null ? 'never won' : formatConfidence(c.confidence)])])
    : '<p>Every cell is at 99.99% or more.</p>';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fooling Lab: run ${run.id} (${esc(run.encoding)} on ${esc(run.model)})</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5rem;text-align:center;font-size:.8rem}figure img{image-rendering:pixelated}.good{color:#1a7f37}pre{background:#f6f6f6;padding:1rem}</style></head>
<body><h1>Run ${run.id}: ${esc(run.encoding)} on ${esc(run.model)} (seed ${run.seed})</h1>
${facts}
<h2>Curves</h2>
${plots.map((p) => `<figure><img src="${p.file}" alt="${esc(p.caption)}"><figcaption>${esc(p.caption)}</figcaption></figure>`).join('\n')}
<h2>Classes still below 99.99% (${below9999.length} of ${run.classes})</h2>
${belowHtml}
<h2>Final archive (${champions.length} champions)</h2>
<div>${thumbs.join('\n')}</div>
<h2>Settings</h2>
<pre>${esc(JSON.stringify(run.settings, null, 2))}</pre>
</body></html>
`;
  writeFileSync(join(dir, 'index.html'), html);
  const json = { runId: run.id, kind: run.kind, model: run.model, encoding: run.encoding, seed: run.seed, status: run.status, settings: run.settings, stats, champions, below9999 };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(json, null, 2) + '\n');
  files.push('index.html', 'report.json');
  return { runId: run.id, dir, files, classes: run.classes, below9999 };
}

/** Whole-number ticks for a cell count: about five of them. */
function cellTicks(classes: number): [number, string][] {
  const step = Math.max(1, Math.ceil(classes / 5));
  const ticks: [number, string][] = [];
  for (let v = 0; v < classes; v += step) ticks.push([v, String(v)]);
  ticks.push([classes, String(classes)]);
  return ticks;
}
