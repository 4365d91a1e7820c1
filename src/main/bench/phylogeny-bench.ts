import { median, withServedRun } from './served-run';
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
  const generations = quick ? 3 : 10;
  const env = { db: 'FOOL_TREE_DB', run: 'FOOL_TREE_RUN' };
  return withServedRun('Phylogeny of a 1000-class run', { quick, generations, env }, async ({ browser, base, runId, db, made }) => {
    const rounds = quick ? 3 : 5;
    const drawn: number[] = [];
    const calls: number[] = [];
    let nodes = 0;
    let champions = '';
    for (let i = 0; i < rounds; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${base}#/run/${runId}/tree`);
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
  });
}
