import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMnistModel, findChromium, launchChromium, NO_CHROMIUM, ROOT, serve, type Served } from './e2e-helpers';

/**
 * The app end to end: the real renderer (out/renderer, built by `npm test` before vitest) in
 * Debian's Chromium, talking to a real `fool serve` over HTTP. Screenshots of every view go to
 * test/artifacts/ (gitignored; the README's app section lists them). No console error may appear
 * across the whole test.
 */

const chromiumPath = findChromium();
const built = existsSync(join(ROOT, 'out/renderer/index.html')) && existsSync(join(ROOT, 'out/main/cli.js'));
const SHOTS = join(ROOT, 'test/artifacts');
const SQUEEZENET = join(ROOT, '../shared/models/squeezenet1.0');

if (!chromiumPath) console.warn(`e2e skipped: ${NO_CHROMIUM}`);
else if (!built) console.warn('e2e skipped: the app is not built (npm run build)');

describe.skipIf(!chromiumPath || !built)(`the app in Chromium through fool serve${chromiumPath ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let dir: string;
  let served: Served;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  let liveRunId = 0;
  /** The bad-input test asks for errors on purpose: Chromium logs the HTTP 400/404 answers then. */
  let expectHttpErrors = false;
  let runId = 0;
  let championId = 0;
  let championClass = 0;

  const shot = async (name: string) => {
    // The images in view decoded first (a screenshot of grey boxes shows nothing); lazy ones below may wait.
    await page
      .waitForFunction(() => [...document.images].filter((i) => i.loading !== 'lazy').every((i) => i.complete), null, { timeout: 15_000 })
      .catch(() => undefined);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const open = async (hash: string) => {
    await page.goto(`${served.url.split('#')[0]}${hash}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fool-e2e-'));
    mkdirSync(SHOTS, { recursive: true });
    const db = join(dir, 'lab.db');
    ensureMnistModel(db);
    served = await serve(db);
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (expectHttpErrors && /^Failed to load resource: the server responded with a status of 40[04]/.test(m.text())) return;
      consoleErrors.push(`${m.text()} (${page.url()})`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts a small MNIST run and shows its progress', async () => {
    await open('#/runs');
    await page.getByTestId('start-form').waitFor();
    await page.locator('select[name=model]').selectOption('lenet-mnist');
    await page.locator('select[name=encoding]').selectOption('cppn');
    await page.locator('input[name=generations]').fill('60');
    await page.locator('input[name=batch]').fill('100');
    await page.locator('input[name=seed]').fill('7');
    await shot('01-runs');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/run\/\d+$/);
    runId = Number(/#\/run\/(\d+)$/.exec(page.url())?.[1]);
    expect(runId).toBeGreaterThan(0);

    // Progress moves: record every value the generation counter shows (a MutationObserver sees
    // changes that polling could miss on a fast machine), until the run finishes.
    const gen = page.getByTestId('run-generation');
    await gen.waitFor();
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=run-generation]');
      const seen: string[] = [el?.textContent ?? ''];
      // Each change of the counter with the images evaluated shown beside it at that moment.
      const pairs: string[] = [];
      (window as unknown as { seenGenerations: string[]; seenPairs: string[] }).seenGenerations = seen;
      (window as unknown as { seenPairs: string[] }).seenPairs = pairs;
      const evals = () => document.querySelector('[data-testid=run-evaluations]')?.textContent ?? '';
      const status = () => document.querySelector('[data-testid=run-status]')?.textContent ?? '';
      if (el)
        new MutationObserver(() => {
          seen.push(el.textContent ?? '');
          if (status() === 'running') pairs.push(`${el.textContent}|${evals()}`);
        }).observe(el, { characterData: true, childList: true, subtree: true });
    });
    await page.waitForFunction(() => (window as unknown as { seenGenerations: string[] }).seenGenerations.length >= 3);
    await shot('02-run-live');
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 90_000 }).toBe('finished');
    const seen = new Set(await page.evaluate(() => (window as unknown as { seenGenerations: string[] }).seenGenerations));
    expect(seen.size).toBeGreaterThanOrEqual(3);
    // The summary moves as one: at generation g (batch 100, a first population of 100) the page
    // shows (g + 1) x 100 images evaluated, not the figure of the last refetch seconds ago.
    const pairs = (await page.evaluate(() => (window as unknown as { seenPairs: string[] }).seenPairs))
      .map((p) => /^(\d+) \/ \d+\|([\d,]+)$/.exec(p))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= 1);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    for (const m of pairs) expect(`generation ${m[1]}: ${m[2]}`).toBe(`generation ${m[1]}: ${((Number(m[1]) + 1) * 100).toLocaleString('en-US')}`);
    await expect.poll(() => gen.textContent()).toBe('60 / 60');
    await page.getByTestId('run-chart').locator('canvas').first().waitFor();
    expect(await page.getByTestId('run-evaluations').textContent()).toMatch(/^[1-9][\d,]*$/);
    await shot('03-run-finished');
  });

  it('chart: 0.99, 0.9999 and 0.999999 are drawn at clearly different heights', async () => {
    // The run chart's confidence axis is log-odds: ask the chart (uPlot) where it draws each value.
    const ys = await page.getByTestId('run-chart').evaluate((el) => {
      const u = (el as HTMLElement & { uplot?: { valToPos(v: number, scale: string): number } }).uplot;
      if (!u) throw new Error('no chart on the run page');
      const nines = (p: number) => -Math.log10(1 - p);
      return [0.99, 0.9999, 0.999999].map((p) => u.valToPos(nines(p), 'conf'));
    });
    // Higher confidence is drawn higher (smaller y), each step at least 40 px apart.
    expect(ys[0] - ys[1]).toBeGreaterThan(40);
    expect(ys[1] - ys[2]).toBeGreaterThan(40);
    // And the x axis spans the planned generations (60), whole numbers only.
    const xmax = await page.getByTestId('run-chart').evaluate((el) => (el as HTMLElement & { uplot?: { scales: Record<string, { max?: number }> } }).uplot!.scales.x.max);
    expect(xmax).toBe(60);
  });

  it('opens the gallery: 10 cards with confidences', async () => {
    await page.getByRole('link', { name: 'Open gallery' }).click();
    await page.waitForURL(/#\/run\/\d+\/gallery$/);
    const cards = page.getByTestId('champion-card');
    await expect.poll(() => cards.count()).toBe(10);
    const confidences = await page.getByTestId('confidence').allTextContents();
    expect(confidences).toHaveLength(10);
    for (const c of confidences) expect(c).toMatch(/^(\d{1,3}\.\d{2,5}%|1 - \d\.\de-\d+|100%)$/);
    // Sorted by confidence, highest first.
    const values = (await page.getByTestId('confidence').evaluateAll((els) => els.map((e) => e.getAttribute('data-confidence')))).map(Number);
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    // Every thumbnail decodes.
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=champion-card] img')].every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await page.getByLabel('Filter by class name').fill('7');
    await expect.poll(() => cards.count()).toBe(1);
    await page.getByLabel('Filter by class name').fill('');
    // Arrow keys move the focus from card to card.
    await cards.nth(0).locator('a').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.closest('[data-index]')?.getAttribute('data-index'))).toBe('1');
    await shot('04-gallery');

    // Select two and compare them side by side.
    await cards.nth(0).getByRole('checkbox').check();
    await cards.nth(1).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/compare\?ids=\d+,\d+$/);
    await expect.poll(() => page.locator('figure').count()).toBe(2);
    await shot('04b-compare');
    await page.goBack();
    await expect.poll(() => cards.count()).toBe(10);
  });

  it('opens a champion: image, top-5 and its CPPN drawn as a graph', async () => {
    const first = page.getByTestId('champion-card').first();
    await first.locator('a').click();
    await page.waitForURL(/individual\/\d+$/);
    championId = Number(/individual\/(\d+)$/.exec(page.url())?.[1]);
    await page.getByTestId('cppn-graph').locator('svg g.node').first().waitFor();
    expect(await page.getByTestId('top5').locator('li').count()).toBe(5);
    await shot('05-detail');
    // Next / previous champion: an arrow key moves on, the other way's link comes back.
    await page.getByRole('navigation', { name: 'Champions of the run' }).waitFor();
    const hasNext = (await page.getByTestId('detail-next').count()) > 0;
    await page.keyboard.press(hasNext ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForURL((u) => !u.hash.endsWith(`/individual/${championId}`));
    await page.getByTestId(hasNext ? 'detail-prev' : 'detail-next').click();
    await page.waitForURL((u) => u.hash.endsWith(`/individual/${championId}`));
    await page.getByTestId('detail-image').waitFor();
  });

  it('shows every CPPN node as an activation image; switching a node off changes the image and the confidence', async () => {
    const acts = page.getByTestId('node-activation');
    await expect.poll(() => acts.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const hrefs = await acts.evaluateAll((els) => els.map((e) => e.getAttribute('href') ?? ''));
    for (const h of hrefs) expect(h).toMatch(/^data:image\/png;base64,/);
    expect(await page.getByTestId('repetition').textContent()).toMatch(/Repetition starts at|No node's activation repeats/);
    await shot('05b-cppn-activations');
    // The output node (id 4): switched off to 0, the image goes black and the confidence falls.
    await page.locator('[data-testid=cppn-node][data-node="4"]').click();
    const after = page.getByTestId('genome-after');
    await expect.poll(() => after.getAttribute('data-after'), { timeout: 20_000 }).not.toBeNull();
    const before = Number(await after.getAttribute('data-before'));
    const changed = Number(await after.getAttribute('data-after'));
    expect(Math.abs(changed - before)).toBeGreaterThan(1e-4);
    expect(await page.getByTestId('genome-delta').textContent()).toMatch(/pts/);
    await page.getByTestId('genome-image').waitFor();
    await expect.poll(() => page.locator('[data-testid=cppn-node][data-node="4"]').getAttribute('class')).toMatch(/\boff\b/);
    await shot('05c-cppn-node-off');
    await page.getByRole('button', { name: 'Save genome ablation' }).click();
    await page.getByTestId('saved-genome-ablations').locator('img').waitFor();
    // Back on: the image as evolved again.
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => after.getAttribute('data-after')).toBeNull();
  });

  it('opens a lineage and clicks through to an ancestor', async () => {
    await page.getByRole('link', { name: 'lineage' }).first().click();
    await page.waitForURL(/lineage\/\d+$/);
    championClass = Number(/lineage\/(\d+)$/.exec(page.url())?.[1]);
    const steps = page.getByTestId('lineage-chain').locator('li');
    await steps.first().waitFor();
    expect(await steps.count()).toBeGreaterThanOrEqual(2);
    expect(await steps.first().textContent()).toContain('gen 0');
    // The chain ends with the champion itself: its ancestors are the steps before it.
    const n = await steps.count();
    expect(await page.locator('h1').textContent()).toContain(`${n - 1} ${n - 1 === 1 ? 'ancestor' : 'ancestors'} back to generation 0`);
    await shot('06-lineage');
    await steps.first().locator('a').click();
    await page.waitForURL(/individual\/\d+$/);
    await page.getByTestId('detail-image').waitFor();
    expect(page.url()).not.toContain(`individual/${championId}`);
  });

  it('ablates a champion and sees the confidence change, then saves it', async () => {
    await open(`#/run/${runId}/individual/${championId}/ablation?class=${championClass}`);
    const canvas = page.getByTestId('ablation-canvas');
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the ablation canvas has no box');
    // Brush strokes across the middle of the image.
    for (const fy of [0.35, 0.5, 0.65]) {
      await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * fy);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.85, box.y + box.height * fy, { steps: 12 });
      await page.mouse.up();
    }
    const after = page.getByTestId('ablation-after');
    await expect.poll(() => after.getAttribute('data-after'), { timeout: 20_000 }).not.toBeNull();
    const before = Number(await after.getAttribute('data-before'));
    const changed = Number(await after.getAttribute('data-after'));
    expect(Math.abs(changed - before)).toBeGreaterThan(1e-6);
    expect(await page.getByTestId('ablation-delta').textContent()).toMatch(/pts/);
    await shot('07-ablation');
    await page.getByLabel('Note').fill('middle rows');
    await page.getByRole('button', { name: 'Save ablation' }).click();
    await page.getByText(/Saved ablation #\d+/).waitFor();
    await open(`#/run/${runId}/individual/${championId}`);
    await page.getByTestId('saved-ablations').getByText('middle rows').waitFor();
    await shot('08-detail-with-ablation');
  });

  it('exports the run and finds the files on disk', async () => {
    await open(`#/run/${runId}/gallery`);
    await page.getByRole('button', { name: 'Export run…' }).click();
    const out = join(dir, 'export');
    await page.getByTestId('export-dialog').locator('input[name=outDir]').fill(out);
    await page.getByTestId('export-dialog').getByRole('button', { name: 'Export' }).click();
    await page.getByTestId('export-result').waitFor();
    await shot('09-export');
    const files = readdirSync(out, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(10);
    expect(files).toContain('manifest.json');
    // Esc closes the dialog; opened again, the focus is in it from the start.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('export-dialog').count()).toBe(0);
    await page.getByRole('button', { name: 'Export run…' }).click();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('outDir');
    await page.getByTestId('export-dialog').getByRole('button', { name: 'Close' }).click();
    // Closed, the focus is back on the button that opened it.
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Export run…');
  });

  it('shows bad input as a message and keeps working', async () => {
    expectHttpErrors = true;
    // An export folder that cannot be written: a path below a regular file.
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    await page.getByRole('button', { name: 'Export run…' }).click();
    await page.getByTestId('export-dialog').locator('input[name=outDir]').fill(join(blocker, 'out'));
    await page.getByTestId('export-dialog').getByRole('button', { name: 'Export' }).click();
    await page.getByTestId('export-error').waitFor();
    await shot('10-error-export');
    await page.getByTestId('export-dialog').getByRole('button', { name: 'Close' }).click();
    expect(await page.getByTestId('champion-card').count()).toBe(10);

    // A run that does not exist.
    await open('#/run/9999');
    await expect.poll(() => page.getByTestId('view-error').textContent()).toMatch(/9999/);
    await shot('11-error-missing-run');

    // Wrong types: generations that are not a number reach the host, which names the field.
    await open('#/runs');
    await page.locator('input[name=generations]').fill('many');
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => page.getByTestId('toast-error').last().textContent()).toMatch(/generations/);
    await shot('12-error-bad-input');

    // Nothing lost: the run and its champions are all still there.
    await page.getByTestId(`run-row-${runId}`).waitFor();
    expect(await page.locator('[data-testid^=run-row-]').count()).toBe(1);
    await open(`#/run/${runId}/gallery`);
    await expect.poll(() => page.getByTestId('champion-card').count()).toBe(10);
    expect(pageErrors).toEqual([]);
    expectHttpErrors = false;
  });

  it('stops a live run and resumes it', async () => {
    await open('#/runs');
    await page.locator('input[name=generations]').fill('100000');
    await page.locator('input[name=batch]').fill('50');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/run\/\d+$/);
    const gen = page.getByTestId('run-generation');
    await expect.poll(async () => Number.parseInt((await gen.textContent()) ?? '0'), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    // Every label the Stop button shows from the click on: it must say at once that it took the
    // click (the generation in flight may take a minute on a big model).
    await page.evaluate(() => {
      const labels: string[] = [];
      (window as unknown as { stopLabels: string[] }).stopLabels = labels;
      const bar = document.querySelector('.toolbar')!;
      new MutationObserver(() => bar.querySelectorAll('button').forEach((b) => labels.push(`${b.textContent}${b.disabled ? ' (disabled)' : ''}`))).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('stopped');
    expect(await page.evaluate(() => (window as unknown as { stopLabels: string[] }).stopLabels)).toContain('Stopping… (disabled)');
    const stoppedAt = Number.parseInt((await gen.textContent()) ?? '0');
    await shot('13-run-stopped');
    // Resume for three more generations.
    await page.getByLabel('total generations').fill(String(stoppedAt + 3));
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('finished');
    expect(await gen.textContent()).toBe(`${stoppedAt + 3} / ${stoppedAt + 3}`);
  });
  it('a live gallery gains and changes cards while the run goes', async () => {
    await open('#/runs');
    await page.locator('input[name=generations]').fill('2000');
    await page.locator('input[name=batch]').fill('50');
    await page.locator('input[name=seed]').fill('11');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/run\/\d+$/);
    liveRunId = Number(/#\/run\/(\d+)$/.exec(page.url())?.[1]);
    await page.getByRole('link', { name: 'Open gallery' }).click();
    await page.waitForURL(/gallery$/);
    // What each card shows: its class and the individual holding it. No reload from here on.
    const cardsNow = () => page.getByTestId('champion-card').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-class')}:${e.querySelector('a')?.getAttribute('href')}`).sort().join(' '));
    await expect.poll(() => page.getByTestId('champion-card').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const first = await cardsNow();
    await expect.poll(async () => (await cardsNow()) !== first, { timeout: 60_000 }).toBe(true);
    expect(await page.getByTestId('champion-card').count()).toBeGreaterThanOrEqual(first.split(' ').length);
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=champion-card] img')].every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await shot('14-gallery-live');
    await open(`#/run/${liveRunId}`);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('stopped');
  });

  it('shows the per-run report: curves, histogram, classes below 99.99%, final archive, settings', async () => {
    await open(`#/run/${runId}/report`);
    await page.getByTestId('report-facts').waitFor();
    await page.getByTestId('run-chart').locator('canvas').first().waitFor();
    await page.getByTestId('confidence-histogram').locator('canvas').first().waitFor();
    await expect.poll(() => page.getByTestId('report-archive').locator('img').count()).toBe(10);
    await page.getByTestId('report-below').waitFor();
    expect(await page.getByTestId('report-facts').textContent()).toMatch(/Images evaluated\s*[1-9]/);
    await shot('15-report');
    // The same report as a folder (runs.writeReport, as fool report --run).
    await page.getByRole('button', { name: 'Save as a folder…' }).click();
    const saveBox = page.getByTestId('report-dialog');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('outDir');
    await saveBox.locator('input[name=outDir]').fill(join(dir, 'run-report'));
    await saveBox.getByRole('button', { name: 'Save report' }).click();
    await page.getByTestId('report-dialog-result').waitFor();
    expect(readFileSync(join(dir, 'run-report', 'index.html'), 'utf8')).toMatch(/Classes still below 99\.99%/);
    await page.keyboard.press('Escape');
    await expect.poll(() => saveBox.count()).toBe(0);
  });

  it('compares runs: overlaid curves of two seeds', async () => {
    await open('#/runs');
    await page.getByLabel(`Compare run ${runId}`).check();
    await page.getByLabel(`Compare run ${liveRunId}`).check();
    await page.getByTestId('compare-runs').click();
    await page.waitForURL(/#\/compare\?runs=\d+,\d+$/);
    await page.getByTestId('compare-chart').locator('canvas').first().waitFor();
    await expect.poll(() => page.getByTestId('compare-table').locator('tbody tr').count()).toBe(2);
    // Two runs, each with a median and a cells series.
    const series = await page.getByTestId('compare-chart').evaluate((el) => (el as HTMLElement & { uplot?: { series: unknown[] } }).uplot!.series.length);
    expect(series).toBe(1 + 2 * 2);
    await shot('16-compare-runs');
  });

  it("draws the run's phylogeny and lists the classes of a selected subtree", async () => {
    await open(`#/run/${runId}/tree`);
    const nodes = page.getByTestId('tree-node');
    await nodes.first().waitFor();
    expect(await nodes.count()).toBeGreaterThanOrEqual(10);
    // Thumbnails of the champions (every class is held by some node).
    await expect.poll(() => page.getByTestId('phylogeny').locator('img').count()).toBeGreaterThanOrEqual(1);
    // The first node drawn is a generation-0 genome: its subtree holds at least one class.
    await nodes.first().click();
    await expect.poll(() => page.getByTestId('subtree-classes').locator('li').count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('wordnet-note').textContent()).toMatch(/ImageNet/);
    await shot('17-phylogeny');
  });

  it('starts a gradient ascent from the Runs page and shows it in its own view, with nothing of evolution offered', async () => {
    await open('#/runs');
    const form = page.getByTestId('ascent-form');
    await form.locator('select[name=ascent-model]').selectOption('lenet-mnist');
    // Wrong input first: the host's one message, nothing started.
    expectHttpErrors = true;
    await form.locator('input[name=ascent-classes]').fill('12');
    await form.getByRole('button', { name: 'Start ascent' }).click();
    await expect.poll(() => page.locator('.toast').last().textContent()).toMatch(/Could not start the gradient ascent: .*12/);
    expectHttpErrors = false;
    await form.locator('input[name=ascent-classes]').fill('0-3');
    await form.locator('input[name=ascent-steps]').fill('60');
    await form.getByRole('button', { name: 'Start ascent' }).click();
    // It follows the job, then opens the run it made.
    await page.waitForURL(/#\/run\/\d+$/, { timeout: 120_000 });
    const ascentRun = Number(/#\/run\/(\d+)$/.exec(page.url())?.[1]);
    expect(ascentRun).toBeGreaterThan(0);
    await page.getByTestId('ascent-table').waitFor();
    expect(await page.getByTestId('ascent-table').locator('tbody tr').count()).toBe(4);
    await page.getByTestId('ascent-chart').locator('canvas').first().waitFor();
    await expect.poll(() => page.getByTestId('ascent-start').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(28);
    expect(await page.getByRole('button', { name: 'Resume' }).count()).toBe(0);
    await shot('18-ascent');
    await open(`#/run/${ascentRun}/gallery`);
    await expect.poll(() => page.getByTestId('champion-card').count()).toBe(4);
    expect(await page.getByTestId('champion-card').first().textContent()).not.toMatch(/gen \d/);
  });

  it('lists the models with input, preprocessing, graph summary, and evaluates one', async () => {
    await open('#/models');
    const row = page.getByTestId('model-row-lenet-mnist');
    await row.waitFor();
    await expect.poll(() => row.textContent()).toMatch(/28×28×1 NCHW/);
    await row.getByRole('button', { name: 'lenet-mnist' }).click();
    await expect.poll(() => page.getByTestId('model-graph').textContent()).toMatch(/Conv × \d/);
    await row.getByRole('button', { name: 'Evaluate on MNIST' }).click();
    const acc = page.getByTestId('accuracy-lenet-mnist');
    await expect.poll(() => acc.textContent(), { timeout: 60_000 }).toMatch(/^\s*\d\d\.\d\d% of 10,000 MNIST test images/);
    const measured = /\d\d\.\d\d%/.exec((await acc.textContent())!)![0];
    await shot('19-models');
    // Kept with the model: after a reload the page shows the same figure and its date.
    await page.reload();
    await expect.poll(() => acc.textContent()).toMatch(new RegExp(`^\\s*${measured.replace('.', '\\.')} of 10,000 MNIST test images \\(\\d{4}-\\d\\d-\\d\\d\\)`));
  });

  it('adds a model by upload (a model this project did not make) and names a file that is not one', async () => {
    const caffe = join(ROOT, '../shared/models/lenet-caffe/lenet-caffe.onnx');
    const file = existsSync(caffe) ? caffe : join(ROOT, 'resources/models/lenet-mnist.onnx');
    await open('#/models');
    const form = page.getByTestId('add-model');
    await form.locator('input[name=name]').fill('uploaded-lenet');
    await form.locator('select[name=preset]').selectOption('mnist');
    await form.locator('input[name=onnx]').setInputFiles(file);
    await form.getByRole('button', { name: 'Add model' }).click();
    await page.getByTestId('model-row-uploaded-lenet').waitFor();
    expect(await page.getByTestId('model-row-uploaded-lenet').textContent()).toMatch(/user/);
    // An ImageNet model with its labels, when ../shared has one: 1000 classes against the runs' 10.
    if (existsSync(SQUEEZENET)) {
      await form.locator('input[name=name]').fill('squeezenet');
      await form.locator('select[name=preset]').selectOption('caffe-imagenet');
      await form.locator('input[name=onnx]').setInputFiles(join(SQUEEZENET, 'squeezenet1.0.onnx'));
      await form.locator('input[name=labels]').setInputFiles(join(SQUEEZENET, 'synset_words.txt'));
      await form.getByRole('button', { name: 'Add model' }).click();
      await expect.poll(() => page.getByTestId('model-row-squeezenet').textContent(), { timeout: 60_000 }).toMatch(/1000/);
    }
    await shot('20-add-model');
    // Wrong input: a file that is not a model is named, and nothing is lost.
    const bogus = join(dir, 'not-a-model.onnx');
    writeFileSync(bogus, 'hello');
    expectHttpErrors = true;
    await form.locator('input[name=name]').fill('bogus');
    await form.locator('input[name=onnx]').setInputFiles(bogus);
    await form.getByRole('button', { name: 'Add model' }).click();
    await expect.poll(() => page.getByTestId('add-model-error').textContent()).toMatch(/onnx|ONNX|model/);
    expectHttpErrors = false;
    expect(await page.locator('[data-testid^=model-row-]').count()).toBe(existsSync(SQUEEZENET) ? 3 : 2);
  });

  it('warns before classifying with a model whose classes differ (and classifies when they do not)', async () => {
    await open(`#/run/${runId}/individual/${championId}`);
    await page.getByLabel('Other model').selectOption('uploaded-lenet');
    // Both have 10 classes: no warning.
    expect(await page.getByTestId('classes-differ').count()).toBe(0);
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    await expect
      .poll(async () => ((await page.getByTestId('toast-error').count()) ? await page.getByTestId('toast-error').first().textContent() : page.getByTestId('top5-other').locator('li').count()), { timeout: 60_000 })
      .toBe(5);
    if (existsSync(SQUEEZENET)) {
      // 1000 ImageNet classes against the run's 10 digits: said before anything runs.
      await page.getByLabel('Other model').selectOption('squeezenet');
      await expect.poll(() => page.getByTestId('classes-differ').textContent()).toMatch(/1000 classes, the run's model 10/);
      await page.getByRole('button', { name: 'Classify anyway' }).click();
      await expect.poll(() => page.getByTestId('top5-other').textContent(), { timeout: 60_000 }).toMatch(/n\d{8}|[a-z]/);
      await shot('20b-classes-differ');
    }
  });

  it('starts a repetition-ablation experiment from the app and follows it to its page', async () => {
    await open('#/experiments');
    const form = page.getByTestId('experiment-form');
    await form.locator('select[name=kind]').selectOption('ablate');
    await form.locator('select[name=runId]').selectOption(String(runId));
    await form.getByRole('button', { name: 'Start experiment' }).click();
    const row = page.locator('[data-testid^=experiment-row-]').first();
    await expect.poll(() => row.textContent(), { timeout: 120_000 }).toMatch(/ablation.*(?<!not )finished$/);
    await shot('21-experiments');
    await row.getByRole('link').first().click();
    await page.getByTestId('ablation-summary').waitFor();
    expect(await page.getByTestId('ablation-images').locator('tbody tr').count()).toBe(10);
    await shot('22-ablation-experiment');
  });

  it('runs a transfer experiment and opens a heat-map cell', async () => {
    await open('#/experiments');
    const form = page.getByTestId('experiment-form');
    await form.locator('select[name=kind]').selectOption('transfer');
    for (const id of [runId, liveRunId]) await form.locator(`input[name=runs-${id}]`).check();
    await form.locator('input[name=models-uploaded-lenet]').check();
    await form.getByRole('button', { name: 'Start experiment' }).click();
    const row = page.locator('[data-testid^=experiment-row-]').first();
    await expect.poll(() => row.textContent(), { timeout: 120_000 }).toMatch(/transfer.*(?<!not )finished$/);
    await row.getByRole('link').first().click();
    const cells = page.getByTestId('transfer-cell');
    await cells.first().waitFor();
    expect(await cells.count()).toBe(2); // one source model x (its own + the uploaded one)
    await cells.nth(1).click();
    await expect.poll(() => page.getByTestId('transfer-images').locator('img').count()).toBe(20);
    await shot('23-transfer');
  });

  it('runs a tiny retraining experiment: the table and the images of class n+1', async () => {
    await open('#/experiments');
    const form = page.getByTestId('experiment-form');
    await form.locator('select[name=kind]').selectOption('retrain');
    for (const [k, v] of Object.entries({ iterations: '2', runsPerIteration: '1', generations: '3', batch: '20', epochs: '1', trainLimit: '2000', testLimit: '1000' })) await form.locator(`input[name=${k}]`).fill(v);
    await form.getByRole('button', { name: 'Start experiment' }).click();
    const row = page.locator('[data-testid^=experiment-row-]').first();
    await expect.poll(() => row.textContent(), { timeout: 240_000 }).toMatch(/retrain.*(?<!not )finished$/);
    await row.getByRole('link').first().click();
    await expect.poll(() => page.getByTestId('retrain-table').locator('tbody tr').count()).toBe(2);
    await expect.poll(() => page.getByTestId('retrain-images').first().locator('img').count()).toBe(10);
    await shot('24-retraining');
  });

  it('runs a tiny reproduction: per-run claims and median curves; a second one is cancelled', async () => {
    await open('#/experiments');
    const form = page.getByTestId('experiment-form');
    await form.locator('select[name=kind]').selectOption('reproduce');
    for (const e of ['cppn', 'direct']) expect(await form.locator(`input[name=encodings-${e}]`).isChecked()).toBe(true); // the default
    for (const [k, v] of Object.entries({ seeds: '1', generations: '8', checkpoint: '4', batch: '20' })) await form.locator(`input[name=${k}]`).fill(v);
    await form.getByRole('button', { name: 'Start experiment' }).click();
    const row = page.locator('[data-testid^=experiment-row-]').first();
    await expect.poll(() => row.textContent(), { timeout: 240_000 }).toMatch(/reproduce.*(?<!not )finished$/);
    await row.getByRole('link').first().click();
    await expect.poll(() => page.getByTestId('reproduce-table').locator('tbody tr').count()).toBe(2);
    await page.getByTestId('reproduce-chart').locator('canvas').first().waitFor();
    expect(await page.getByTestId('reproduce-claims').textContent()).toMatch(/by generation 4: \d \/ 2/);
    await shot('25-reproduction');

    // Cancel: a long one is stopped from the page.
    await open('#/experiments');
    await form.locator('select[name=kind]').selectOption('reproduce');
    await form.locator('input[name=generations]').fill('100000');
    await form.getByRole('button', { name: 'Start experiment' }).click();
    const running = page.getByTestId('experiment-jobs');
    await running.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => running.count(), { timeout: 60_000 }).toBe(0);
    // Listed as what it is: cut short with its results so far, not "finished".
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toMatch(/reproduce.*cancelled \(results so far\)$/);
    await shot('25b-reproduction-cancelled');
  });

  it('deletes a run and removes a model (after an in-app confirmation that Esc cancels)', async () => {
    await open(`#/run/${liveRunId}`);
    const confirmBox = page.getByTestId('confirm-dialog');
    // Esc cancels: the focus was in the dialog (on Cancel, the safe choice) and the run stays.
    await page.getByRole('button', { name: 'Delete run…' }).click();
    await confirmBox.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await shot('26-confirm-delete');
    await page.keyboard.press('Escape');
    await expect.poll(() => confirmBox.count()).toBe(0);
    expect(page.url()).toMatch(new RegExp(`#/run/${liveRunId}$`));
    await page.getByRole('button', { name: 'Delete run…' }).click();
    await confirmBox.getByRole('button', { name: 'Delete run' }).click();
    await page.waitForURL(/#\/runs$/);
    await expect.poll(() => page.getByTestId(`run-row-${liveRunId}`).count()).toBe(0);
    await expect.poll(() => page.getByTestId(`run-row-${runId}`).count()).toBe(1);
    await open('#/models');
    const row = page.getByTestId('model-row-uploaded-lenet');
    await row.waitFor();
    await row.getByRole('button', { name: 'Remove' }).click();
    await confirmBox.getByRole('button', { name: 'Remove model' }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect(await page.getByTestId('model-row-lenet-mnist').count()).toBe(1);
  });

  it('left no console error and no page error across the test', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
