import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { packageRoot } from '../core/paths';

/**
 * What the app's page benchmarks (gallery, phylogeny) share: a real 1000-class run (given, or made
 * now with SqueezeNet from ../shared/models), `fool serve` on it, Debian's Chromium driving the
 * page. The section only measures; this sets up, says why it cannot, and cleans up.
 */

export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export function fool(root: string, db: string, args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin/fool.js'), '--db', db, ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fool ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A real 1000-class run: SqueezeNet, CPPN, `generations` generations after the random start. */
export function makeRun(root: string, db: string, quick: boolean, generations = 1): number | null {
  const dir = resolve(root, '../shared/models/squeezenet1.0');
  if (!existsSync(join(dir, 'squeezenet1.0.onnx'))) return null;
  fool(root, db, ['models', 'add', join(dir, 'squeezenet1.0.onnx'), '--name', 'squeezenet', '--preset', 'caffe-imagenet', '--labels', join(dir, 'synset_words.txt')]);
  const out = fool(root, db, ['--json', 'evolve', '--model', 'squeezenet', '--encoding', 'cppn', '--generations', String(generations), '--batch', quick ? '200' : '400', '--seed', '1']);
  return (JSON.parse(out) as { runId: number }).runId;
}

export function serve(root: string, db: string): Promise<{ url: string; stop: () => void }> {
  const proc = spawn(process.execPath, [join(root, 'bin/fool.js'), '--db', db, '--json', 'serve', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((done, fail) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) done({ url: (JSON.parse(line) as { open: string }).open, stop: () => proc.kill('SIGTERM') });
    });
    proc.once('exit', (code) => fail(new Error(`fool serve exited (${code}): ${err}`)));
  });
}

export const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface ServedRun {
  browser: Browser;
  /** The app's address without its hash: append `#/run/ID/...`. */
  base: string;
  runId: number;
  db: string;
  /** Seconds it took to make the run now (0 when one was given). */
  made: number;
}

/**
 * Runs `measure` against a served 1000-class run: `env.db`/`env.run` name the environment variables
 * that give one (FOOL_GALLERY_DB, ...), else one is made with `generations` generations. Returns
 * the section's lines, or its title with the reason it was skipped.
 */
export async function withServedRun(
  title: string,
  opts: { quick: boolean; generations: number; env: { db: string; run: string }; db?: string; runId?: number },
  measure: (s: ServedRun) => Promise<string[]>,
): Promise<string[]> {
  const skip = (why: string) => {
    const text = `\n### ${title}\n\nskipped: ${why}`;
    console.log(text);
    return [text];
  };
  const chromiumPath = CHROMIUM.find((p) => existsSync(p));
  if (!chromiumPath) return skip(`no Chromium at ${CHROMIUM.join(' or ')}`);
  const root = packageRoot();
  if (!existsSync(join(root, 'out/renderer/index.html'))) return skip('the renderer is not built (npm run build)');

  let db = opts.db ?? process.env[opts.env.db];
  let runId = opts.runId ?? (process.env[opts.env.run] ? Number(process.env[opts.env.run]) : undefined);
  let scratch: string | undefined;
  let made = 0;
  if (!db || !runId) {
    scratch = mkdtempSync(join(tmpdir(), 'fool-page-bench-'));
    db = join(scratch, 'lab.db');
    const t0 = performance.now();
    const id = makeRun(root, db, opts.quick, opts.generations);
    if (id === null) {
      rmSync(scratch, { recursive: true, force: true });
      return skip(`no 1000-class run given (${opts.env.db}, ${opts.env.run}) and no ../shared/models/squeezenet1.0 to make one`);
    }
    runId = id;
    made = (performance.now() - t0) / 1000;
  }
  const server = await serve(root, db);
  // playwright-core is a development tool, not bundled: load it at run time by name.
  const pw = (await import(/* @vite-ignore */ ['playwright', 'core'].join('-'))) as typeof import('playwright-core');
  let browser: Browser | undefined;
  try {
    browser = await pw.chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
    });
    return await measure({ browser, base: server.url.split('#')[0], runId, db, made });
  } finally {
    await browser?.close();
    server.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
