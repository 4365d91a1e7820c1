import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FoolError } from '../../shared/errors';

/**
 * The folders Fooling Lab writes (exports, reports, datasets). It writes into a folder only when it
 * is new, empty, or one it wrote itself (it holds MARKER, written before anything else, so even a
 * folder left half-written by a killed export is recognised and written over): a user's folder with
 * an index.html of their own is never overwritten.
 */
export const MARKER = '.fooling-lab';

/**
 * What exports and reports write into their folder: the pages and data files, the plots and
 * contact sheet (PNG, SVG) and the per-champion image folders. A reused folder loses these before
 * the new write, so an export of 10 champions over an earlier one of 1000 does not leave 990 stale
 * images beside an index of 10; anything else there (a note the user added) stays.
 */
const OUTPUT_FILE = /^(index\.html|manifest\.json|report\.json|result\.json|.*\.png|.*\.svg)$/;
const OUTPUT_DIRS = ['images', 'champions'];

function clearEarlierOutput(dir: string, entries: string[]): void {
  // lstat: a link is the user's (never followed, never removed).
  for (const name of entries) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isFile() && OUTPUT_FILE.test(name)) rmSync(p);
    else if (st.isDirectory() && OUTPUT_DIRS.includes(name)) {
      for (const f of readdirSync(p)) if (/\.png$/.test(f) && lstatSync(join(p, f)).isFile()) rmSync(join(p, f));
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    }
  }
}

/** Creates one level at a time from the deepest existing ancestor (mkdir -p on /proc loops in Node 20). */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let cur = dir;
  while (!existsSync(cur)) {
    missing.push(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  if (!statSync(cur).isDirectory()) throw new FoolError('IO', `cannot write to ${dir}: ${cur} is a file, not a folder`, 'Choose another folder');
  try {
    accessSync(cur, constants.W_OK);
    for (const d of missing.reverse()) mkdirSync(d);
  } catch (e) {
    throw new FoolError('IO', `cannot write to ${dir} (creating it in ${cur}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Choose a folder you can write to');
  }
}

/**
 * Makes `outDir` ready to receive a `kind` (export, report, dataset): absolute (a relative path
 * is taken from the current folder, which for a server is not the user's), created if needed,
 * refused if it is a file, unwritable, or a non-empty folder Fooling Lab did not write.
 */
export function prepareOutDir(outDir: string, kind: string): string {
  const dir = resolve(outDir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new FoolError('BAD_INPUT', `${dir} is a file, not a folder`, 'Pass a new or empty folder');
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new FoolError(
        'BAD_INPUT',
        `${dir} already holds ${entries.length} file(s) that Fooling Lab did not write (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); they were left untouched`,
        'Pass a new or empty folder (an earlier export folder of Fooling Lab may be reused)',
      );
    }
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw new FoolError('IO', `cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Choose a folder you can write to');
    }
    if (entries.includes(MARKER)) clearEarlierOutput(dir, entries);
  } else makeDirs(dir);
  writeFileSync(join(dir, MARKER), JSON.stringify({ writtenBy: 'fooling-lab', kind, at: new Date().toISOString() }) + '\n');
  return dir;
}
