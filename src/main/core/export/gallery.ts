import { mkdirSync, writeFileSync } from 'node:fs';
import { prepareOutDir } from '../out-dir';
import { join } from 'node:path';
import type { OverlayOptions } from 'sharp';
import { formatConfidence } from '../../../shared/confidence';
import { FoolError } from '../../../shared/errors';
import { firstName } from '../../../shared/labels';
import { encodingOf } from '../engine/encodings';
import { individualImage } from '../individual-image';
import type { Lab } from '../lab';
import type { Champion } from '../../../shared/engine';
import type { ExportResult } from '../../../shared/api';
import type { Image } from '../models/image';
import { encodePng, writePng, writeSheetPng } from '../models/png';

export type { ExportResult };

/** A checked export: the run, the champions to write and the prepared folder. */
export interface ExportPlan {
  runId: number;
  champs: Champion[];
  dir: string;
}

export interface ExportProgress {
  signal?: AbortSignal;
  /** After each file written: files done, files in all, the file. */
  onProgress?: (done: number, total: number, file: string) => void;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const slug = (s: string) => firstName(s).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'class';
const pct = formatConfidence;

/**
 * A run's champions (or a selection of classes) to a folder: one PNG per champion, a contact sheet
 * with class names and confidences, an index.html gallery and a manifest.json with genome,
 * lineage and predictions.
 */
export async function exportRun(lab: Lab, runId: number, outDir: string, opts: { classes?: number[] } & ExportProgress = {}): Promise<ExportResult> {
  return writeExport(lab, planExport(lab, runId, outDir, opts), opts);
}

/**
 * Checks an export and prepares its folder, before any work: a bad run, class or folder is the
 * caller's error (so `export.start` refuses it instead of starting a job that fails).
 */
export function planExport(lab: Lab, runId: number, outDir: string, opts: { classes?: number[] } = {}): ExportPlan {
  const run = lab.runs.get(runId);
  let champs: Champion[] = lab.runs.champions(runId);
  if (opts.classes) {
    for (const c of opts.classes) if (!Number.isInteger(c) || c < 0 || c >= run.classes) throw new FoolError('BAD_INPUT', `class ${c} is out of range for run ${runId}`, `Classes are 0..${run.classes - 1}`);
    const want = new Set(opts.classes);
    champs = champs.filter((c) => want.has(c.class));
  }
  if (champs.length === 0) throw new FoolError('NOT_FOUND', `run ${runId} has no champions to export yet`, 'Run at least one generation');
  const dir = prepareOutDir(outDir, 'export');
  mkdirSync(join(dir, 'images'), { recursive: true });
  return { runId, champs, dir };
}

/**
 * Writes a planned export, one file at a time. A cancel stops between champion images; the
 * contact sheet, index.html and manifest.json are then written for the images done (manifest
 * `complete: false`), so the folder is always consistent: every listed image is there.
 */
export async function writeExport(lab: Lab, plan: ExportPlan, opts: ExportProgress = {}): Promise<ExportResult> {
  const { runId, dir } = plan;
  const run = lab.runs.get(runId);
  let champs = plan.champs;
  const total = champs.length + 3;
  let written = 0;
  const wrote = (file: string) => opts.onProgress?.(++written, total, file);
  const images = new Map<number, Image>();
  const files: string[] = [];
  const entries = [];
  let done = true;
  for (const c of champs) {
    if (opts.signal?.aborted && files.length > 0) {
      done = false;
      break;
    }
    if (!images.has(c.individualId)) images.set(c.individualId, individualImage(lab, runId, c.individualId));
    const img = images.get(c.individualId)!;
    const file = `images/${String(c.class).padStart(4, '0')}-${slug(c.label)}.png`;
    await writePng(join(dir, file), img);
    files.push(file);
    wrote(file);
    const ind = lab.runs.individual(runId, c.individualId);
    const lineage = lab.runs.lineage(runId, c.class).map((i) => ({ individualId: i.id, generation: i.generation, classesHeld: i.won.map(([k]) => k) }));
    entries.push({
      class: c.class,
      label: c.label,
      confidence: c.confidence,
      generation: c.generation,
      individualId: c.individualId,
      file,
      predictions: ind.top.map(([k, p]) => ({ class: k, label: run.labels[k], confidence: p })),
      genome: run.kind === 'ascent' ? ind.extra : encodingOf(run.encoding).exportJson(encodingOf(run.encoding).decode(ind.genome)),
      lineage,
    });
  }

  if (!done) champs = champs.slice(0, entries.length);
  // Contact sheet: tiles with the class name and confidence under each.
  const first = images.values().next().value!;
  const tile = Math.max(84, Math.min(128, first.width * 3));
  const caption = 34;
  const cols = Math.min(champs.length, Math.max(5, Math.ceil(Math.sqrt(champs.length))));
  const rows = Math.ceil(champs.length / cols);
  const W = cols * (tile + 8) + 8;
  const H = rows * (tile + caption + 8) + 8;
  const composites: OverlayOptions[] = [];
  const texts: string[] = [];
  for (let i = 0; i < champs.length; i++) {
    const c = champs[i];
    const img = images.get(c.individualId)!;
    const x = 8 + (i % cols) * (tile + 8);
    const y = 8 + Math.floor(i / cols) * (tile + caption + 8);
    const buf = await encodePng(img, { size: tile });
    composites.push({ input: buf, left: x, top: y });
    const name = escapeHtml(slug(c.label).slice(0, 16));
    texts.push(`<text x="${x + tile / 2}" y="${y + tile + 14}" text-anchor="middle">${c.class} ${name}</text>`);
    texts.push(`<text x="${x + tile / 2}" y="${y + tile + 28}" text-anchor="middle" font-weight="bold">${pct(c.confidence)}</text>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><style>text{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#222}</style>${texts.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  await writeSheetPng(join(dir, 'contact-sheet.png'), { width: W, height: H, background: '#ffffff', layers: composites });
  files.push('contact-sheet.png');
  wrote('contact-sheet.png');

  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fooling Lab: run ${run.id}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}main{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:1rem}
figure{margin:0;text-align:center}img{width:128px;height:128px;image-rendering:${first.width < 64 ? 'pixelated' : 'auto'};border:1px solid #ddd}
figcaption{font-size:.8rem}b{display:block}</style></head>
<body><h1>Run ${run.id}: ${escapeHtml(run.encoding)} images that ${escapeHtml(run.model)} labels with high confidence</h1>
<p>Seed ${run.seed}, generation ${run.lastGeneration}, ${champs.length} champions. Exported by Fooling Lab.${done ? '' : ` <b>Stopped</b>: ${champs.length} of the ${plan.champs.length} champions were written.`}</p>
<main>
${entries.map((e) => `<figure><img src="${e.file}" alt="${escapeHtml(e.label)}"><figcaption>${e.class} ${escapeHtml(e.label)}<b>${pct(e.confidence)}</b>generation ${e.generation}</figcaption></figure>`).join('\n')}
</main></body></html>
`;
  writeFileSync(join(dir, 'index.html'), html);
  files.push('index.html');
  wrote('index.html');
  const manifest = {
    exportedBy: 'fooling-lab',
    complete: done,
    run: { id: run.id, kind: run.kind, model: run.model, encoding: run.encoding, seed: run.seed, settings: run.settings, generation: run.lastGeneration, status: run.status },
    champions: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  files.push('manifest.json');
  wrote('manifest.json');
  return { dir, files, champions: champs.length, done };
}
