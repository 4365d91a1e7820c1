import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { packageRoot } from '../core/paths';
import { printTable } from './timing';

/**
 * The gallery of a 1000-champion run in Debian's Chromium through `fool serve`: time to the first
 * cards and thumbnails (browser clock, from navigation start), and, from the browser's resource
 * timings, which images it fetched: only the visible rows' thumbnails, never every full image.
 *
 * The run: `db` + `runId` (or FOOL_GALLERY_DB + FOOL_GALLERY_RUN), else a real one made now with
 * `fool evolve --model squeezenet --generations 1` on ../shared/models (1000 ImageNet classes:
 * generation 0 alone fills every cell).
 */

export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];
/** The gallery's thumbnail request size (Gallery.svelte's THUMB). */
const THUMB = 128;

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

interface PageReport {
  cardsMs: number;
  thumbsMs: number;
  cardsInDom: number;
  images: { name: string; size: number }[];
}

export async function galleryBench(quick: boolean, opts: { db?: string; runId?: number } = {}): Promise<string[]> {
  const skip = (why: string) => {
    const text = `\n### Gallery of 1000 champions\n\nskipped: ${why}`;
    console.log(text);
    return [text];
  };
  const chromiumPath = CHROMIUM.find((p) => existsSync(p));
  if (!chromiumPath) return skip(`no Chromium at ${CHROMIUM.join(' or ')}`);
  const root = packageRoot();
  if (!existsSync(join(root, 'out/renderer/index.html'))) return skip('the renderer is not built (npm run build)');

  let db = opts.db ?? process.env.FOOL_GALLERY_DB;
  let runId = opts.runId ?? (process.env.FOOL_GALLERY_RUN ? Number(process.env.FOOL_GALLERY_RUN) : undefined);
  let scratch: string | undefined;
  let made = 0;
  if (!db || !runId) {
    scratch = mkdtempSync(join(tmpdir(), 'fool-gallery-bench-'));
    db = join(scratch, 'lab.db');
    const t0 = performance.now();
    const id = makeRun(root, db, quick);
    if (id === null) {
      rmSync(scratch, { recursive: true, force: true });
      return skip('no 1000-class run given (FOOL_GALLERY_DB, FOOL_GALLERY_RUN) and no ../shared/models/squeezenet1.0 to make one');
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
    // Round 0 is the first open on a fresh server (its image renderer cold); the rest are warm server, cold browser.
    const rounds = quick ? 3 : 6;
    const reports: PageReport[] = [];
    let champions = 0;
    let afterScroll = { cardsInDom: 0, images: 0, maxSize: 0 };
    for (let i = 0; i < rounds; i++) {
      // A fresh context each round: a cold cache, as when the gallery is first opened.
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${server.url.split('#')[0]}#/run/${runId}/gallery`);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=champion-card]').length > 0, null, { timeout: 60_000 });
      const cardsMs = await page.evaluate(() => performance.now());
      // The first row's thumbnails decoded.
      await page.waitForFunction(
        () => {
          const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid=champion-card] img')].slice(0, 6);
          return imgs.length > 0 && imgs.every((im) => im.complete && im.naturalWidth > 0);
        },
        null,
        { timeout: 60_000 },
      );
      const thumbsMs = await page.evaluate(() => performance.now());
      const r = await page.evaluate(() => ({
        cardsInDom: document.querySelectorAll('[data-testid=champion-card]').length,
        count: document.querySelector('[data-testid=gallery-count]')?.textContent ?? '',
        images: performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/image/'))
          .map((e) => ({ name: e.name, size: Number(new URL(e.name).searchParams.get('size')) })),
      }));
      champions = Number(/of (\d+)/.exec(r.count)?.[1] ?? 0);
      reports.push({ cardsMs, thumbsMs, cardsInDom: r.cardsInDom, images: r.images });
      if (i === rounds - 1) {
        // Scroll through the whole gallery; count the DOM cards and image fetches afterwards.
        const scroller = page.getByTestId('gallery-scroller');
        const height = await scroller.evaluate((el) => el.scrollHeight);
        for (let y = 0; y <= height; y += 600) {
          await scroller.evaluate((el, top) => el.scrollTo(0, top), y);
          await page.waitForTimeout(16);
        }
        await page.waitForTimeout(500);
        afterScroll = await page.evaluate(() => {
          const imgs = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/image/'));
          return {
            cardsInDom: document.querySelectorAll('[data-testid=champion-card]').length,
            images: imgs.length,
            maxSize: Math.max(0, ...imgs.map((e) => Number(new URL(e.name).searchParams.get('size')))),
          };
        });
      }
      await ctx.close();
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const first = reports[0];
    const full = first.images.filter((im) => im.size > THUMB).length;
    const warm = reports.slice(1);
    const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
    const table = printTable(`Gallery of ${champions} champions, run ${runId} (Chromium through fool serve; fresh browser each open)`, [
      ['measure', 'first open (fresh server)', `median of ${warm.length} later opens`],
      ['first cards in the DOM', ms([first.cardsMs]), ms(warm.map((r) => r.cardsMs))],
      ['first row of thumbnails decoded', ms([first.thumbsMs]), ms(warm.map((r) => r.thumbsMs))],
      ['cards in the DOM on open', `${first.cardsInDom} of ${champions}`, ''],
      ['images fetched on open', `${first.images.length}, all thumbnails (size ${THUMB}): ${full === 0 ? 'yes' : 'no'}`, ''],
      ['full images fetched offscreen', full, ''],
      ['after scrolling to the end: cards in the DOM, images fetched, largest size', `${afterScroll.cardsInDom}, ${afterScroll.images}, ${afterScroll.maxSize}`, ''],
    ]);
    const note = [
      made ? `(run made now in ${made.toFixed(1)} s: fool evolve --model squeezenet --encoding cppn --generations 1)` : `(run ${runId} of ${db})`,
      `Opens in under 2 s (first row of thumbnails, warm server): ${median(warm.map((r) => r.thumbsMs)) < 2000 ? 'yes' : 'NO'}; offscreen full images loaded: ${full + (afterScroll.maxSize > THUMB ? 1 : 0) === 0 ? 'none' : 'YES'}.`,
    ].join('\n');
    console.log(note);
    return [table, note];
  } finally {
    await browser?.close();
    server.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
