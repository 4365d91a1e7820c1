import { writeFileSync } from 'node:fs';
import { prepareOutDir } from '../out-dir';
import { join } from 'node:path';
import { FoolError } from '../../../shared/errors';
import type { Lab } from '../lab';
import { writeSvgAsPng } from '../models/png';
import { ExperimentStore, type ExperimentRow } from '../store/experiments';
import { storedKind } from './registry';
import { esc } from './report-html';

/**
 * An experiment's report from the database: index.html (tables and plots), each plot as PNG
 * (and SVG), and result.json. Rendered again at any time from the stored result.
 */

export async function renderReport(lab: Lab, id: number, outDir: string): Promise<{ dir: string; files: string[]; experiment: ExperimentRow }> {
  const e = new ExperimentStore(lab.db).get(id);
  if (e.result === null) throw new FoolError('BAD_INPUT', `experiment ${id} (${e.kind}) has no result yet`, 'Wait for it to finish, or run it again');
  const dir = prepareOutDir(outDir, 'report');
  const { sections, plots } = storedKind(e.kind).report(e.result, lab);
  const files: string[] = [];
  for (const p of plots) {
    writeFileSync(join(dir, p.file.replace(/\.png$/, '.svg')), p.svg);
    await writeSvgAsPng(join(dir, p.file), p.svg);
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
