import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import type { TransferResult } from '../src/main/core/experiments/transfer';
import { apiResult, HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';

/**
 * Experiments over an ImageNet run, as the app's Experiments page drives them through a server:
 * 1000 champions under SqueezeNet take a minute or more here. Their progress must move image by
 * image, a Cancel must land within a chunk, and the host must keep answering meanwhile (its one
 * thread serves the app, the live runs' events and Ctrl-C).
 */
describe.skipIf(!HAS_SHARED)(`experiments over an ImageNet run (${HAS_SHARED ? 'SqueezeNet' : SKIP_SHARED_REASON})`, () => {
  const dir = tempDir('fool-transfer-progress-');
  let api: LabApi;
  const events: ApiEvent[] = [];
  let runId = 0;

  const ok = <M extends ApiMethod>(method: M, params: ApiParams<M>) => apiResult(api, method, params);

  beforeAll(async () => {
    api = new LabApi(new Lab(join(dir, 'lab.db')), { classifier: { workers: 2 }, renderWorkers: 2 });
    api.onEvent((e) => events.push(e));
    await ok('models.add', { file: MODELS.squeezenet, name: 'squeezenet', preset: 'caffe-imagenet', labels: MODELS.synsets, check: false });
    // One generation of 20 CPPNs fills all 1000 cells: 1000 champions, a few dozen images to render.
    runId = (await ok('runs.start', { model: 'squeezenet', encoding: 'cppn', generations: 1, batch: 20, seed: 3 })).runId;
    await new Promise<void>((done) => {
      const off = api.onEvent((e) => {
        if (e.type === 'run.status' && e.runId === runId && e.status !== 'running') {
          off();
          done();
        }
      });
    });
    expect((await ok('runs.champions', { runId })).length).toBe(1000);
  }, 120_000);
  afterAll(() => api?.close());

  it('counts the images classified as it goes, and a cancel stops it within a chunk', async () => {
    const { jobId } = await ok('experiments.start', { kind: 'transfer', params: { runs: [runId], models: ['squeezenet'] } });
    const progress: { done: number; total: number }[] = [];
    const end = await new Promise<Extract<ApiEvent, { type: 'job.end' }>>((done) => {
      const off = api.onEvent((e) => {
        if (e.type === 'job.progress' && e.jobId === jobId && e.done > 0) {
          progress.push({ done: e.done, total: e.total });
          // The first count in: the user presses Cancel.
          if (progress.length === 1) void api.call('jobs.cancel', { jobId });
        }
        if (e.type === 'job.end' && e.jobId === jobId) {
          off();
          done(e);
        }
      });
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0].total).toBe(1000);
    // Stopped within a chunk or two of the cancel, far from the model's 1000th image.
    expect(Math.max(...progress.map((p) => p.done))).toBeLessThanOrEqual(256);
    expect(end.status).toBe('cancelled');
    // The model cut short is not in the result: no half-classified column.
    const result = end.result as TransferResult & { experimentId: number };
    expect(result).toMatchObject({ targets: [], done: false });
    // Listed as cut short, not as finished (the page and `fool experiments list` say "cancelled").
    expect(await ok('experiments.get', { experimentId: result.experimentId })).toMatchObject({ finished: false, cancelled: true });
  }, 180_000);

  it("ablate: the host's thread keeps turning while the champions are rendered and ablated", async () => {
    // The longest stretch the event loop went without a turn, from the start to 20 champions done.
    let last = performance.now();
    let longest = 0;
    const beat = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    try {
      const { jobId } = await ok('experiments.start', { kind: 'ablate', params: { runId } });
      await new Promise<void>((done) => {
        const off = api.onEvent((e) => {
          if (e.type === 'job.progress' && e.jobId === jobId && e.done >= 20) {
            off();
            void api.call('jobs.cancel', { jobId });
            done();
          }
        });
      });
      // One champion at a time takes a fraction of a second; all 1000 up front took over a minute.
      expect(longest).toBeLessThan(10_000);
      const end = await new Promise<Extract<ApiEvent, { type: 'job.end' }>>((done) => {
        const off = api.onEvent((e) => {
          if (e.type === 'job.end' && e.jobId === jobId) {
            off();
            done(e);
          }
        });
      });
      expect(end.status).toBe('cancelled');
    } finally {
      clearInterval(beat);
    }
  }, 300_000);
});
