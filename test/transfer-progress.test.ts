import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams, ApiResults } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import type { TransferResult } from '../src/main/core/experiments/transfer';
import { HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';

/**
 * A transfer over an ImageNet run, as the app's Experiments page drives it: 1000 champions under
 * SqueezeNet take a minute here. Its progress must move image by image (not one message for the
 * whole model) and a Cancel must land within a chunk, not after the model's last image.
 */
describe.skipIf(!HAS_SHARED)(`transfer over an ImageNet run: progress and cancel mid-model (${HAS_SHARED ? 'SqueezeNet' : SKIP_SHARED_REASON})`, () => {
  const dir = tempDir('fool-transfer-progress-');
  let api: LabApi;
  const events: ApiEvent[] = [];
  let runId = 0;

  async function ok<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
    const r = await api.call(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.result as ApiResults[M];
  }

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
});
