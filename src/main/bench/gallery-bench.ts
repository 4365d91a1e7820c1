import { median, withServedRun } from './served-run';
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

/** The gallery's thumbnail request size (Gallery.svelte's THUMB). */
const THUMB = 128;

interface PageReport {
  cardsMs: number;
  thumbsMs: number;
  cardsInDom: number;
  images: { name: string; size: number }[];
}

export async function galleryBench(quick: boolean, opts: { db?: string; runId?: number } = {}): Promise<string[]> {
  const env = { db: 'FOOL_GALLERY_DB', run: 'FOOL_GALLERY_RUN' };
  return withServedRun('Gallery of 1000 champions', { quick, generations: 1, env, ...opts }, async ({ browser, base, runId, db, made }) => {
    // Round 0 is the first open on a fresh server (its image renderer cold); the rest are warm server, cold browser.
    const rounds = quick ? 3 : 6;
    const reports: PageReport[] = [];
    let champions = 0;
    let afterScroll = { cardsInDom: 0, images: 0, maxSize: 0 };
    for (let i = 0; i < rounds; i++) {
      // A fresh context each round: a cold cache, as when the gallery is first opened.
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${base}#/run/${runId}/gallery`);
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
  });
}
