import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMnistModel, findChromium, fool, launchChromium, NO_CHROMIUM, serve, type Served } from './e2e-helpers';
import { tempDir } from './helpers';

/** The app's Sweeps page, in Debian's Chromium through `fool serve`, on a lab with a real (local) sweep. */

const chromiumPath = findChromium();
if (!chromiumPath) console.warn(`[skip] sweeps view: ${NO_CHROMIUM}`);

describe.skipIf(!chromiumPath)(`the Sweeps page (${chromiumPath ? 'Chromium' : NO_CHROMIUM})`, () => {
  const dir = tempDir('fool-sweeps-view-');
  const db = join(dir, 'lab.db');
  let served: Served;
  let browser: Browser;
  let page: Page;
  let sweep: { sweepId: number; tasks: { runId: number }[]; archive: { class: number; confidence: number; runId: number }[] };

  beforeAll(async () => {
    ensureMnistModel(db);
    sweep = JSON.parse(fool(db, ['--json', 'sweep', '--models', 'lenet-mnist', '--encodings', 'direct,cppn', '--seeds', '1', '--generations', '2', '--batch', '10', '--dir', join(dir, 'tasks')])) as typeof sweep;
    served = await serve(db);
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it("lists the sweep, its tasks with their runs, and the merged archive's champions as images", async () => {
    await page.goto(`${served.url.split('#')[0]}#/runs`);
    await page.getByRole('link', { name: 'Sweeps' }).click();
    await page.getByTestId('sweeps-table').getByRole('link', { name: `#${sweep.sweepId}` }).click();
    const tasks = page.getByTestId('sweep-tasks');
    await expect.poll(() => tasks.locator('tbody tr').count()).toBe(2);
    for (const [i, t] of sweep.tasks.entries()) {
      const row = page.getByTestId(`sweep-task-${i}`);
      expect(await row.textContent()).toContain('imported');
      expect(await row.getByRole('link', { name: `#${t.runId}` }).count()).toBe(1);
    }
    const cells = page.getByTestId('sweep-archive').locator('a');
    expect(await cells.count()).toBe(sweep.archive.length);
    // Every champion image loaded (decoded, non-empty).
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll('[data-testid="sweep-archive"] img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0))).toBe(true);
    expect(await cells.first().textContent()).toContain(`run ${sweep.archive[0].runId}`);
    await page.screenshot({ path: join(dir, 'sweeps.png'), fullPage: true });
    await cells.first().click();
    expect(page.url()).toContain(`#/run/${sweep.archive[0].runId}/individual/`);
  }, 120_000);
});
