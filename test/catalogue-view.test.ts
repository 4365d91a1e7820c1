import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, NO_CHROMIUM, ROOT, serve, type Served } from './e2e-helpers';
import { tempDir } from './helpers';
import { SHIPPED_LENET } from './torch-style-models';

/**
 * The Models page's catalogue ("Get a model"), in Debian's Chromium through `fool serve`, with
 * FOOL_CATALOGUE pointing at a local HTTP server started here that serves the shipped LeNet slowly
 * (so the progress bar is seen moving and a download can be cancelled), plus an entry with a wrong
 * SHA-256 and one on a host that does not resolve.
 */
const chromiumPath = findChromium();
if (!chromiumPath) console.warn(`[skip] catalogue view: ${NO_CHROMIUM}`);
const haveLenet = existsSync(SHIPPED_LENET);

const ARTIFACTS = join(ROOT, 'test/artifacts');

describe.skipIf(!chromiumPath || !haveLenet)(`the Models page's catalogue (${!chromiumPath ? NO_CHROMIUM : !haveLenet ? `no ${SHIPPED_LENET}` : 'Chromium'})`, () => {
  const BYTES = haveLenet ? readFileSync(SHIPPED_LENET) : Buffer.alloc(0);
  const SHA = createHash('sha256').update(BYTES).digest('hex');
  const dir = tempDir('fool-catalogue-view-');
  const db = join(dir, 'lab.db');
  let http: Server;
  let served: Served;
  let browser: Browser;
  let page: Page;

  /** Sends the file in 64 kB pieces, 60 ms apart (about 1.7 s in all; 250 ms for a "slow" file), with Range support for resumes. */
  function send(req: IncomingMessage, res: ServerResponse) {
    if (!req.url?.endsWith('.onnx')) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = BYTES.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'Content-Length': body.length,
      'Content-Type': 'application/octet-stream',
      ...(m ? { 'Content-Range': `bytes ${start}-${BYTES.length - 1}/${BYTES.length}` } : {}),
    });
    let at = 0;
    const tick = () => {
      if (res.destroyed) return;
      const piece = body.subarray(at, at + 65_536);
      at += piece.length;
      if (at >= body.length) return void res.end(piece);
      res.write(piece, () => setTimeout(tick, req.url?.includes('slow') ? 250 : 60));
    };
    tick();
  }

  const entry = (name: string, url: string, sha256 = SHA) => ({
    name,
    title: `LeNet served by the test (${name})`,
    url,
    bytes: BYTES.length,
    sha256,
    preset: 'mnist',
    labels: 'digits',
    verified: true,
    source: 'test/catalogue-view.test.ts',
    licence: 'MIT (Fooling Lab)',
  });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    http = createServer(send);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const catalogue = join(dir, 'catalogue.json');
    writeFileSync(
      catalogue,
      JSON.stringify([
        entry('tiny', `${base}/models/lenet.onnx`),
        entry('tiny-cancel', `${base}/models/lenet-cancel.onnx`),
        entry('tiny-badhash', `${base}/models/lenet-bad.onnx`, '0'.repeat(64)),
        entry('tiny-offline', 'http://models.fooling-lab.invalid/lenet.onnx'),
        entry('tiny-slow', `${base}/models/lenet-slow.onnx`),
      ]),
    );
    served = await serve(db, { FOOL_CATALOGUE: catalogue });
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${served.url.split('#')[0]}#/models`);
    await page.getByTestId('catalogue-table').waitFor();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  });

  const row = (name: string) => page.getByTestId(`catalogue-row-${name}`);
  const status = (name: string) => page.getByTestId(`catalogue-status-${name}`);

  it('lists the catalogue: the paper\'s AlexNet with its size and unverified manifest, and the local entries', async () => {
    expect(await row('alexnet').textContent()).toContain('243.9 MB');
    expect(await row('alexnet').textContent()).toContain('not verified');
    expect(await row('tiny').textContent()).toContain('1.7 MB');
    expect(await row('tiny').textContent()).toContain('verified here');
    expect(await row('tiny').getByRole('button', { name: 'Get' }).count()).toBe(1);
    // Not in the lab yet.
    expect(await page.getByTestId('model-row-tiny').count()).toBe(0);
  });

  it('Get downloads with a moving progress bar, shows the self-check and adds the model to the list', async () => {
    await row('tiny').getByRole('button', { name: 'Get' }).click();
    const bar = row('tiny').getByRole('progressbar');
    // Seen part-way: the bar moves before the file is complete.
    await expect.poll(async () => Number((await bar.getAttribute('aria-valuenow').catch(() => null)) ?? -1), { timeout: 20_000 }).toBeGreaterThan(0);
    const mid = Number(await bar.getAttribute('aria-valuenow').catch(() => '100'));
    if (mid < 100) await page.screenshot({ path: join(ARTIFACTS, 'catalogue-progress.png'), fullPage: true });
    await expect.poll(() => status('tiny').textContent(), { timeout: 90_000 }).toContain('Installed as tiny');
    const check = await page.getByTestId('catalogue-check-tiny').textContent();
    expect(check).toMatch(/self-check: \d+(\.\d+)?% of 1,000 MNIST test digits/);
    // The page's models list was refreshed: the model is there, with its stored self-check.
    await expect.poll(() => page.getByTestId('model-row-tiny').count()).toBe(1);
    await expect.poll(() => page.getByTestId('accuracy-tiny').textContent()).toContain('self-check at registration');
    await page.screenshot({ path: join(ARTIFACTS, 'catalogue-installed.png'), fullPage: true });
  }, 120_000);

  it('Cancel stops a download part-way, nothing registered; Get again resumes where it stopped', async () => {
    await row('tiny-cancel').getByRole('button', { name: 'Get' }).click();
    const bar = row('tiny-cancel').getByRole('progressbar');
    await expect.poll(async () => Number((await bar.getAttribute('aria-valuenow').catch(() => null)) ?? -1), { timeout: 20_000 }).toBeGreaterThan(0);
    await row('tiny-cancel').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('catalogue-cancelled-tiny-cancel').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('catalogue-error-tiny-cancel').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'catalogue-cancelled.png'), fullPage: true });
    expect(await page.getByTestId('model-row-tiny-cancel').count()).toBe(0);
    await row('tiny-cancel').getByRole('button', { name: 'Get' }).click();
    await expect.poll(() => status('tiny-cancel').textContent(), { timeout: 90_000 }).toMatch(/Installed as tiny-cancel \(resumed from \d/);
    await expect.poll(() => page.getByTestId('model-row-tiny-cancel').count()).toBe(1);
  }, 120_000);

  it('a download started before the page was left is followed again when the page is opened anew', async () => {
    await row('tiny-slow').getByRole('button', { name: 'Get' }).click();
    const bar = () => row('tiny-slow').getByRole('progressbar');
    await expect.poll(async () => Number((await bar().getAttribute('aria-valuenow').catch(() => null)) ?? -1), { timeout: 20_000 }).toBeGreaterThan(0);
    // Away to the runs, back to the models: a fresh page knows nothing but what jobs.list says.
    await page.goto(`${served.url.split('#')[0]}#/runs`);
    await page.reload();
    await page.goto(`${served.url.split('#')[0]}#/models`);
    await page.getByTestId('catalogue-table').waitFor();
    const before = Number((await bar().getAttribute('aria-valuenow', { timeout: 10_000 })) ?? -1);
    expect(before).toBeGreaterThanOrEqual(0);
    expect(await row('tiny-slow').getByRole('button', { name: 'Cancel' }).count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'catalogue-reattached.png'), fullPage: true });
    // It moves on and ends here, registered, without a second Get.
    await expect.poll(() => status('tiny-slow').textContent(), { timeout: 90_000 }).toContain('Installed as tiny-slow');
    await expect.poll(() => page.getByTestId('model-row-tiny-slow').count()).toBe(1);
  }, 120_000);

  it('a file whose SHA-256 does not match is refused with the clear message, and nothing is registered', async () => {
    await row('tiny-badhash').getByRole('button', { name: 'Get' }).click();
    const err = page.getByTestId('catalogue-error-tiny-badhash');
    await err.waitFor({ timeout: 60_000 });
    const text = (await err.textContent()) ?? '';
    expect(text).toContain('is not the expected one');
    expect(text).toContain(`expected ${BYTES.length} bytes, SHA-256 ${'0'.repeat(64)}`);
    expect(text).not.toMatch(/^Error|INTERNAL|at .*\.js:/);
    expect(await page.getByTestId('model-row-tiny-badhash').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'catalogue-badhash.png'), fullPage: true });
  }, 90_000);

  it('offline: the one message of the core (where to get the file, the models add command)', async () => {
    await row('tiny-offline').getByRole('button', { name: 'Get' }).click();
    const err = page.getByTestId('catalogue-error-tiny-offline');
    await err.waitFor({ timeout: 60_000 });
    const text = (await err.textContent()) ?? '';
    expect(text).toContain('this machine looks offline');
    expect(text).toContain('fool models add lenet.onnx --name tiny-offline --preset mnist');
    await page.screenshot({ path: join(ARTIFACTS, 'catalogue-offline.png'), fullPage: true });
  }, 90_000);

  it('after a reload, the models got are shown installed (no Get), the others still offer Get', async () => {
    await page.reload();
    await page.getByTestId('catalogue-table').waitFor();
    await expect.poll(() => status('tiny').textContent()).toContain('installed');
    expect(await row('tiny').getByRole('button', { name: 'Get' }).count()).toBe(0);
    expect(await row('tiny-badhash').getByRole('button', { name: 'Get' }).count()).toBe(1);
  });
});
