import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMnistModel, findChromium, launchChromium, NO_CHROMIUM, ROOT, serve, type Served } from './e2e-helpers';

/**
 * The app end to end: the real renderer (out/renderer, built by `npm test` before vitest) in
 * Debian's Chromium, talking to a real `fool serve` over HTTP. Screenshots of every view go to
 * test-artifacts/e2e/.
 */

const chromiumPath = findChromium();
const built = existsSync(join(ROOT, 'out/renderer/index.html')) && existsSync(join(ROOT, 'out/main/cli.js'));
const SHOTS = join(ROOT, 'test-artifacts/e2e');

if (!chromiumPath) console.warn(`e2e skipped: ${NO_CHROMIUM}`);
else if (!built) console.warn('e2e skipped: the app is not built (npm run build)');

describe.skipIf(!chromiumPath || !built)(`the app in Chromium through fool serve${chromiumPath ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let dir: string;
  let served: Served;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let runId = 0;
  let championId = 0;
  let championClass = 0;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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
      (window as unknown as { seenGenerations: string[] }).seenGenerations = seen;
      if (el) new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { characterData: true, childList: true, subtree: true });
    });
    await page.waitForFunction(() => (window as unknown as { seenGenerations: string[] }).seenGenerations.length >= 3);
    await shot('02-run-live');
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 90_000 }).toBe('finished');
    const seen = new Set(await page.evaluate(() => (window as unknown as { seenGenerations: string[] }).seenGenerations));
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await expect.poll(() => gen.textContent()).toBe('60 / 60');
    await page.getByTestId('run-chart').locator('svg path.series').first().waitFor();
    await shot('03-run-finished');
  });

  it('opens the gallery: 10 cards with confidences', async () => {
    await page.getByRole('link', { name: 'Open gallery' }).click();
    await page.waitForURL(/#\/run\/\d+\/gallery$/);
    const cards = page.getByTestId('champion-card');
    await expect.poll(() => cards.count()).toBe(10);
    const confidences = await page.getByTestId('confidence').allTextContents();
    expect(confidences).toHaveLength(10);
    for (const c of confidences) expect(c).toMatch(/^\d{1,3}\.\d\d%$/);
    // Sorted by confidence, highest first.
    const values = confidences.map((c) => Number.parseFloat(c));
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    // Every thumbnail decodes.
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=champion-card] img')].every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await page.getByLabel('Filter by class name').fill('7');
    await expect.poll(() => cards.count()).toBe(1);
    await page.getByLabel('Filter by class name').fill('');
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
    await page.getByTestId('export-dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('shows bad input as a message and keeps working', async () => {
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
  });

  it('stops a live run and resumes it', async () => {
    await open('#/runs');
    await page.locator('input[name=generations]').fill('100000');
    await page.locator('input[name=batch]').fill('50');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/run\/\d+$/);
    const gen = page.getByTestId('run-generation');
    await expect.poll(async () => Number.parseInt((await gen.textContent()) ?? '0'), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('stopped');
    const stoppedAt = Number.parseInt((await gen.textContent()) ?? '0');
    await shot('13-run-stopped');
    // Resume for three more generations.
    await page.getByLabel('total generations').fill(String(stoppedAt + 3));
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('finished');
    expect(await gen.textContent()).toBe(`${stoppedAt + 3} / ${stoppedAt + 3}`);
  });
});
