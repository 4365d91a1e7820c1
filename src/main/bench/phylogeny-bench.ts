import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { packageRoot } from '../core/paths';
import { CHROMIUM, makeRun, serve } from './gallery-bench';
import { printTable } from './timing';

/**
 * The phylogeny of a 1000-class run in Debian's Chromium through `fool serve`: from navigation
 * start to the tree drawn (every node in the DOM), and the runs.tree call's own time (the server
 * builds the merged ancestry and, for ImageNet, the WordNet tables).
 *
 * The run: FOOL_TREE_DB + FOOL_TREE_RUN, else a real one made now: SqueezeNet, CPPN, a few
 * generations (1000 classes, lineages that split and merge back to generation 0).
 */
export async function phylogenyBench(quick: boolean): Promise<string[]> {
  const skip = (why: string) => {
    const text = `\n### Phylogeny of a 1000-class run\n\nskipped: ${why}`;
    console.log(text);
    return [text];
  };
  const chromiumPath = CHROMIUM.find((p) => existsSync(p));
  if (!chromiumPath) return skip(`no Chromium at ${CHROMIUM.join(' or ')}`);
  const root = packageRoot();
  if (!existsSync(join(root, 'out/renderer/index.html'))) return skip('the renderer is not built (npm run build)');

  let db = process.env.FOOL_TREE_DB;
  let runId = process.env.FOOL_TREE_RUN ? Number(process.env.FOOL_TREE_RUN) : undefined;
  let scratch: string | undefined;
  const generations = quick ? 3 : 10;
  let made = 0;
  if (!db || !runId) {
    scratch = mkdtempSync(join(tmpdir(), 'fool-tree-bench-'));
    db = join(scratch, 'lab.db');
    const t0 = performance.now();
    const id = makeRun(root, db, quick, generations);
    if (id === null) {
      rmSync(scratch, { recursive: true, force: true });
      return skip('no 1000-class run given (FOOL_TREE_DB, FOOL_TREE_RUN) and no ../shared/models/squeezenet1.0 to make one');
    }
    runId = id;
    made = (performance.now() - t0) / 1000;
  }

  const server = await serve(root, db);
  const pw = (await import(/* @vite-ignore */ ['playwright', 'core'].join('-'))) as typeof import('playwright-core');
  let browser: Browser | undefined;
  try {
    browser = await pw.chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'] });
    const rounds = quick ? 3 : 5;
    const drawn: number[] = [];
    const calls: number[] = [];
    let nodes = 0;
    let champions = '';
    for (let i = 0; i < rounds; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${server.url.split('#')[0]}#/run/${runId}/tree`);
      await page.waitForFunction(() => document.querySelector('[data-testid=tree-drawn-ms]') !== null, null, { timeout: 120_000 });
      drawn.push(await page.evaluate(() => performance.now()));
      const r = await page.evaluate(() => ({
        nodes: document.querySelectorAll('[data-testid=tree-node]').length,
        title: document.querySelector('h1')?.textContent ?? '',
        call: performance.getEntriesByType('resource').find((e) => e.name.includes('/api/call/runs.tree'))?.duration ?? NaN,
      }));
      nodes = r.nodes;
      champions = /(\d+) champions/.exec(r.title)?.[1] ?? '?';
      calls.push(r.call);
      await ctx.close();
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const table = printTable(`Phylogeny of run ${runId}: ${champions} champions, ${nodes} nodes drawn (Chromium through fool serve; fresh browser each open)`, [
      ['measure', 'first open (fresh server)', `median of ${rounds - 1} later opens`],
      ['navigation start to the tree drawn', `${drawn[0].toFixed(0)} ms`, `${median(drawn.slice(1)).toFixed(0)} ms`],
      ['runs.tree call (ancestry, layout data, WordNet tables)', `${calls[0].toFixed(0)} ms`, `${median(calls.slice(1)).toFixed(0)} ms`],
    ]);
    const note = [
      made ? `(run made now in ${made.toFixed(1)} s: fool evolve --model squeezenet --encoding cppn --generations ${generations})` : `(run ${runId} of ${db})`,
      `Draws in under 3 s (warm server): ${median(drawn.slice(1)) < 3000 ? 'yes' : 'NO'}.`,
    ].join('\n');
    console.log(note);
    return [table, note];
  } finally {
    await browser?.close();
    server.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
