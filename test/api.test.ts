import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import { apiResult, foolJson, HAS_SHARED, MODELS, tempDir } from './helpers';

/** The façade on a real database and the shipped LeNet (no ../shared needed). */
const MODEL = 'lenet-mnist';
const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));

describe.skipIf(!HAS_MODEL)('the API façade (LabApi)', () => {
  const dir = tempDir('fool-api-');
  const db = join(dir, 'lab.db');
  let api: LabApi;
  const events: ApiEvent[] = [];

  const ok = <M extends ApiMethod>(method: M, params: ApiParams<M>) => apiResult(api, method, params);
  async function fails(method: string, params: unknown) {
    const r = await api.call(method, params);
    expect(r.ok).toBe(false);
    return r.ok ? { code: '', message: '' } : r.error;
  }
  /** Resolves with the final run.status event of a run. */
  function finished(runId: number): Promise<ApiEvent> {
    return new Promise((done) => {
      const off = api.onEvent((e) => {
        if (e.type === 'run.status' && e.runId === runId && e.status !== 'running') {
          off();
          done(e);
        }
      });
    });
  }

  let runId = 0;
  beforeAll(async () => {
    api = new LabApi(new Lab(db), { classifier: { workers: 2 }, renderWorkers: 2 });
    api.onEvent((e) => events.push(e));
    expect((await ok('models.list', {})).map((m) => m.name)).toContain(MODEL);
    runId = (await ok('runs.start', { model: MODEL, encoding: 'cppn', generations: 4, batch: 30, seed: 5 })).runId;
    expect(await finished(runId)).toMatchObject({ type: 'run.status', status: 'finished' });
  });
  afterAll(() => api?.close());

  it('starts a run in the background and reports its progress with an ETA', async () => {
    const progress = events.filter((e) => e.type === 'run.progress' && e.runId === runId);
    expect(progress.map((e) => (e.type === 'run.progress' ? e.generation : -1))).toEqual([0, 1, 2, 3, 4]);
    const last = progress.at(-1)!;
    if (last.type !== 'run.progress') throw new Error('unreachable');
    expect(last).toMatchObject({ generations: 4, etaSeconds: 0 });
    expect(last.evaluationsPerSecond).toBeGreaterThan(0);
    expect(last.stats.occupied).toBeGreaterThan(0);
    // Each event carries the run's totals as its row holds them after that generation.
    const row = (await ok('runs.get', { runId })).run;
    expect(last).toMatchObject({ evaluations: row.evaluations, seconds: row.seconds, provider: row.provider });
    expect(progress.map((e) => (e.type === 'run.progress' ? e.evaluations : -1))).toEqual([30, 60, 90, 120, 150]);
    const list = await ok('runs.list', {});
    expect(list).toEqual([expect.objectContaining({ runId, model: MODEL, encoding: 'cppn', status: 'finished', generation: 4, generations: 4, live: false, classes: 10 })]);
    const got = await ok('runs.get', { runId });
    expect(got.stats).toHaveLength(5);
    expect(got.labels).toHaveLength(10);
    expect(got.settings).toMatchObject({ encoding: 'cppn', generations: 4, batchSize: 30 });
  });

  it('shows an individual: top-5 under the run model and another model, its CPPN and pixel statistics', async () => {
    const champs = await ok('runs.champions', { runId });
    expect(champs.length).toBeGreaterThan(0);
    const c = champs[0];
    const d = await ok('individual.get', { runId, individualId: c.individualId });
    expect(d).toMatchObject({ runId, individualId: c.individualId, width: 28, height: 28, channels: 1, encoding: 'cppn' });
    expect(d.classesHeld).toContain(c.class);
    expect(d.top).toHaveLength(5);
    // Re-rendered and re-classified now: the same confidence the run recorded.
    expect(d.top.find((t) => t.class === c.class)?.confidence ?? 0).toBeCloseTo(c.confidence, 4);
    expect(d.cppn!.nodes.filter((n) => n.kind === 'input').map((n) => n.label)).toEqual(['x', 'y', 'd', 'bias']);
    expect(d.cppn!.nodes.find((n) => n.kind === 'output')).toMatchObject({ label: 'grey' });
    for (const e of d.cppn!.connections) expect(Math.abs(e.weight)).toBeLessThanOrEqual(10);
    expect(d.pixels.mean).toHaveLength(1);
    expect(d.pixels.histogram.reduce((a, b) => a + b, 0)).toBe(784);

    const same = await ok('individual.classify', { runId, individualId: c.individualId, model: MODEL });
    expect(same.top).toEqual(d.top);
    expect((await fails('individual.classify', { runId, individualId: c.individualId, model: 'nope' })).code).toBe('NOT_FOUND');
  });

  it.skipIf(!HAS_SHARED)('classifies under any other registered model (Caffe LeNet from ../shared)', async () => {
    await api.lab.models.add(MODELS.lenet, { name: 'lenet-caffe', preset: 'mnist' });
    const c = (await ok('runs.champions', { runId }))[0];
    const r = await ok('individual.classify', { runId, individualId: c.individualId, model: 'lenet-caffe' });
    expect(r.model).toBe('lenet-caffe');
    expect(r.top).toHaveLength(5);
    expect(r.top.reduce((s, t) => s + t.confidence, 0)).toBeLessThanOrEqual(1.0001);
  });

  it('gives a lineage from generation 0 to the champion, and its family', async () => {
    const c = (await ok('runs.champions', { runId }))[0];
    const l = await ok('lineage.get', { runId, class: c.class });
    expect(l.chain[0]).toMatchObject({ generation: 0, parentId: null });
    expect(l.chain.at(-1)!.individualId).toBe(c.individualId);
    for (let i = 1; i < l.chain.length; i++) expect(l.chain[i].parentId).toBe(l.chain[i - 1].individualId);
    const ancestors = new Set(l.chain.map((s) => s.individualId));
    for (const f of l.family) {
      expect(f.class).not.toBe(c.class);
      expect(ancestors.has(f.commonAncestorId)).toBe(true);
    }
    expect((await fails('lineage.get', { runId, class: 99 })).message).toMatch(/out of range/);
  });

  it('ablates: detects motifs, applies a mask, saves it with its image', async () => {
    const c = (await ok('runs.champions', { runId }))[0];
    const motifs = await ok('ablation.detect', { runId, individualId: c.individualId });
    expect(Array.isArray(motifs)).toBe(true);
    const none = Buffer.alloc(784).toString('base64');
    const all = Buffer.alloc(784, 1).toString('base64');
    const same = await ok('ablation.apply', { runId, individualId: c.individualId, class: c.class, mask: none });
    expect(same.maskedPixels).toBe(0);
    expect(same.confidenceAfter).toBeCloseTo(same.confidenceBefore, 6);
    expect(same.confidenceBefore).toBeCloseTo(c.confidence, 4);
    const grey = await ok('ablation.apply', { runId, individualId: c.individualId, class: c.class, mask: all, fill: 'grey' });
    expect(grey.maskedPixels).toBe(784);
    expect(grey.top).toHaveLength(5);
    const saved = await ok('ablation.save', { runId, individualId: c.individualId, class: c.class, mask: all, fill: 'black', note: 'everything' });
    expect(saved).toMatchObject({ class: c.class, fill: 'black', note: 'everything', maskedPixels: 784 });
    expect(await ok('ablation.list', { runId, individualId: c.individualId })).toEqual([saved]);
    // The ablated image is kept: all black.
    const png = api.lab.db.prepare('SELECT image FROM ablations WHERE id = ?').get(saved.ablationId) as { image: Buffer };
    const raw = await sharp(png.image).raw().toBuffer();
    expect(raw.every((v) => v === 0)).toBe(true);
    expect((await fails('ablation.apply', { runId, individualId: c.individualId, class: c.class, mask: 'AAAA' })).message).toMatch(/mask holds 3 pixels/);
    expect((await fails('ablation.apply', { runId, individualId: c.individualId, class: c.class, mask: '!!!' })).message).toMatch(/not base64/);
  });

  it('renders thumbnails as PNG, cached', async () => {
    const c = (await ok('runs.champions', { runId }))[0];
    const png = await api.image(runId, c.individualId, 112);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 112, height: 112 });
    expect(await api.image(runId, c.individualId, 112)).toBe(png);
    await expect(api.image(runId, 999_999, 64)).rejects.toThrow(/no individual/);
    await expect(api.image(runId, c.individualId, 5)).rejects.toThrow(/size/);
  });

  it('exports a run; an unwritable folder is a clear error and nothing is lost', async () => {
    const out = join(dir, 'export');
    const r = await ok('export.run', { runId, outDir: out });
    expect(r.files).toContain('index.html');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).run.id).toBe(runId);
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    let writable = true;
    try {
      accessSync(locked, constants.W_OK);
    } catch {
      writable = false;
    }
    // (root can write anywhere; then the check is moot)
    if (!writable) expect(await fails('export.run', { runId, outDir: join(locked, 'sub') })).toMatchObject({ code: 'IO', message: expect.stringMatching(/cannot write/) });
    expect(await fails('export.run', { runId, outDir: '/dev/null/x' })).toMatchObject({ code: 'IO' });
    expect((await ok('runs.champions', { runId })).length).toBeGreaterThan(0);
  });

  it('an export into the folder of an earlier one holds only its own images', async () => {
    const out = join(dir, 'export-twice');
    const all = await ok('export.run', { runId, outDir: out });
    const champions = await ok('runs.champions', { runId });
    expect(readdirSync(join(out, 'images'))).toHaveLength(champions.length);
    // The same folder again, one class: the other classes' images must not stay behind unlisted.
    const one = champions[0].class;
    const again = await ok('export.run', { runId, outDir: out, classes: [one] });
    const listed = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { champions: { file: string }[] }).champions.map((c) => c.file);
    expect(listed).toHaveLength(1);
    expect(readdirSync(join(out, 'images')).map((f) => `images/${f}`)).toEqual(listed);
    expect(again.files.filter((f) => f.startsWith('images/'))).toEqual(listed);
    expect(all.files.length).toBeGreaterThan(again.files.length);
  });

  it('rejects bad requests with clear errors and keeps working', async () => {
    expect(await fails('runs.get', { runId: 'one' })).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/runId/) });
    expect(await fails('runs.get', { runId: 404 })).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no run 404/) });
    expect(await fails('runs.start', { model: 'nope', encoding: 'cppn' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails('runs.resume', { runId: 404 })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails('runs.stop', { runId: 404 })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails('nope', {})).toMatchObject({ message: expect.stringMatching(/unknown API method/) });
    expect(await ok('runs.list', {})).toHaveLength(1);
  });

  it('stops a run after its generation and resumes it', async () => {
    const { runId: id } = await ok('runs.start', { model: MODEL, encoding: 'direct', generations: 10_000, batch: 20, seed: 2 });
    const end = finished(id);
    await new Promise<void>((done) => {
      const off = api.onEvent((e) => {
        if (e.type === 'run.progress' && e.runId === id && e.generation >= 2) {
          off();
          done();
        }
      });
    });
    expect((await ok('runs.list', {})).find((r) => r.runId === id)).toMatchObject({ live: true, status: 'running' });
    expect((await fails('runs.resume', { runId: id })).message).toMatch(/already running/);
    await ok('runs.stop', { runId: id });
    expect(await end).toMatchObject({ status: 'stopped' });
    const stoppedAt = (await ok('runs.get', { runId: id })).run.generation;
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    const again = finished(id);
    await ok('runs.resume', { runId: id, generations: stoppedAt + 2 });
    expect(await again).toMatchObject({ status: 'finished' });
    const r = await ok('runs.get', { runId: id });
    expect(r.run).toMatchObject({ generation: stoppedAt + 2, status: 'finished', live: false });
    expect(r.stats.map((s) => s.generation)).toEqual(Array.from({ length: stoppedAt + 3 }, (_, i) => i));
    // Direct encodings: no network, pixel statistics per channel.
    const c = (await ok('runs.champions', { runId: id }))[0];
    const d = await ok('individual.get', { runId: id, individualId: c.individualId });
    expect(d.cppn).toBeNull();
    expect(d.pixels.std[0]).toBeGreaterThan(0);
  });

  it('lists runs started from the command line in the same database', async () => {
    const cli = await foolJson<{ runId: number }>(['evolve', '--model', MODEL, '--db', db, '--generations', '1', '--batch', '10', '--workers', '1']);
    const list = await ok('runs.list', {});
    expect(list.find((r) => r.runId === cli.runId)).toMatchObject({ status: 'finished', live: false, generation: 1 });
  });
});
