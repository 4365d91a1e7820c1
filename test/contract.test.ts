import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiRequests, parseRequest, type ApiEvent, type ApiMethod } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import { startServer, type RunningServer } from '../src/main/server/server';
import { tempDir } from './helpers';

/**
 * The contract, host by host: every method of src/shared/api.ts called through the web host (HTTP)
 * and through the Electron IPC handler (electron mocked), with valid and invalid parameters. Both
 * hosts must give the same results and the same errors. One small lab (the shipped LeNet, a run of
 * two generations) keeps it quick.
 */

vi.mock('electron', () => ({
  app: { whenReady: () => new Promise(() => undefined), on: vi.fn(), quit: vi.fn() },
  BrowserWindow: class {},
  shell: { openExternal: vi.fn() },
  dialog: { showErrorBox: vi.fn() },
  ipcMain: { handle: vi.fn() },
  protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
  session: { defaultSession: { webRequest: { onHeadersReceived: vi.fn() }, setPermissionRequestHandler: vi.fn() } },
}));

const MODEL = 'lenet-mnist';
const ONNX = join(__dirname, '../resources/models/lenet-mnist.onnx');
const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));
const APP_FRAME = { senderFrame: { url: 'fool://app/index.html' } } as never;

type Host = 'http' | 'ipc';
type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

describe.skipIf(!HAS_MODEL)('the API contract through both hosts', () => {
  const dir = tempDir('fool-contract-');
  let api: LabApi;
  let srv: RunningServer;
  let ipc: (method: string, params: unknown) => Promise<Reply>;
  const ends = new Map<number, Extract<ApiEvent, { type: 'job.end' }>>();
  const progressed = new Set<number>();
  const waiters = new Map<number, () => void>();
  /** What each host made, by name (runs, models, experiments), for the calls that follow. */
  const made: Record<Host, Record<string, number | string>> = { http: {}, ipc: {} };
  const fx: { runId: number; individualId: number; cls: number; mask: string; png: string; experimentId: number; jobId: number; motif: { individualId: number; cls: number } } = {
    runId: 0,
    individualId: 0,
    cls: 0,
    mask: '',
    png: '',
    experimentId: 0,
    jobId: 0,
    motif: { individualId: 0, cls: 0 },
  };

  async function http(method: string, params: unknown): Promise<Reply & { status: number }> {
    const res = await fetch(`${srv.url}api/call/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
    return { ...((await res.json()) as Reply), status: res.status };
  }
  const call = async (host: Host, method: string, params: unknown): Promise<Reply> => {
    if (host === 'ipc') return ipc(method, params);
    const { status: _status, ...r } = await http(method, params);
    return r as Reply;
  };
  const result = <T,>(r: Reply): T => {
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };
  function ended(jobId: number): Promise<Extract<ApiEvent, { type: 'job.end' }>> {
    return new Promise((done) => {
      const e = ends.get(jobId);
      if (e) return done(e);
      waiters.set(jobId, () => done(ends.get(jobId)!));
    });
  }

  beforeAll(async () => {
    api = new LabApi(new Lab(join(dir, 'lab.db')), { classifier: { workers: 1 }, renderWorkers: 1 });
    api.onEvent((e) => {
      if (e.type === 'job.progress') progressed.add(e.jobId);
      if (e.type === 'job.end') {
        ends.set(e.jobId, e);
        waiters.get(e.jobId)?.();
      }
    });
    srv = await startServer({ api, host: '127.0.0.1', port: 0, staticDir: join(dir, 'no-renderer') });
    const { handleCall } = await import('../src/main/electron/index');
    ipc = (method, params) => handleCall(api, APP_FRAME, method, params) as Promise<Reply>;
    // The lab both hosts look at: one short run, an image file, an ablation experiment.
    const start = result<{ runId: number; jobId: number }>(await call('ipc', 'runs.start', { model: MODEL, encoding: 'cppn', generations: 2, batch: 10, seed: 3 }));
    expect((await ended(start.jobId)).status).toBe('finished');
    fx.runId = start.runId;
    const champ = result<{ class: number; individualId: number }[]>(await call('ipc', 'runs.champions', { runId: fx.runId }))[0];
    fx.individualId = champ.individualId;
    fx.cls = champ.class;
    // A champion with a repeated motif, for ablation.copies.
    for (const c of result<{ class: number; individualId: number }[]>(await call('ipc', 'runs.champions', { runId: fx.runId }))) {
      const motifs = result<{ copies: unknown[] }[]>(await call('ipc', 'ablation.detect', { runId: fx.runId, individualId: c.individualId }));
      if (motifs.some((m) => m.copies.length >= 2)) {
        fx.motif = { individualId: c.individualId, cls: c.class };
        break;
      }
    }
    expect(fx.motif.individualId, 'a champion with a repeated motif').toBeGreaterThan(0);
    fx.mask = Buffer.alloc(28 * 28, 0).fill(1, 0, 100).toString('base64');
    fx.png = join(dir, 'grey.png');
    await sharp(Buffer.alloc(28 * 28, 128), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(fx.png);
    const exp = result<{ jobId: number; experimentId: number }>(await call('ipc', 'experiments.start', { kind: 'ablate', params: { runId: fx.runId } }));
    expect((await ended(exp.jobId)).status).toBe('finished');
    fx.experimentId = exp.experimentId;
    fx.jobId = exp.jobId;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
  });

  /**
   * Every method: valid parameters (for each host; `same` says whether both must answer the very same
   * result, else only its shape), then what each host's job ended with, if it is a job.
   */
  interface Case {
    valid: (h: Host) => unknown;
    same?: boolean;
    /** A call whose id does not exist: NOT_FOUND (HTTP 404) from both. */
    missing?: unknown;
    /** After the call: what to check (job ends, follow-up calls). */
    after?: (h: Host, r: unknown) => Promise<void>;
  }
  const jobEnds = (status: string) => async (_h: Host, r: unknown) => {
    const { jobId } = r as { jobId: number };
    expect((await ended(jobId)).status).toBe(status);
  };
  const CASES: Record<ApiMethod, Case> = {
    'models.list': { valid: () => ({}), same: true },
    'runs.list': { valid: () => ({}), same: true },
    'runs.get': { valid: () => ({ runId: fx.runId }), same: true, missing: { runId: 9999 } },
    'runs.start': {
      valid: () => ({ model: MODEL, encoding: 'direct', generations: 1, batch: 10, seed: 4 }),
      after: async (h, r) => {
        const { runId, jobId } = r as { runId: number; jobId: number };
        expect((await ended(jobId)).status).toBe('finished');
        made[h].run = runId;
      },
    },
    'runs.stop': { valid: () => ({ runId: fx.runId }), same: true, missing: { runId: 9999 } },
    'runs.resume': { valid: (h) => ({ runId: made[h].run, generations: 2 }), after: jobEnds('finished'), missing: { runId: 9999 } },
    'runs.champions': { valid: () => ({ runId: fx.runId }), same: true, missing: { runId: 9999 } },
    'individual.get': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true, missing: { runId: fx.runId, individualId: 999_999 } },
    'individual.classify': { valid: () => ({ runId: fx.runId, individualId: fx.individualId, model: MODEL }), same: true, missing: { runId: fx.runId, individualId: fx.individualId, model: 'nope' } },
    'lineage.get': { valid: () => ({ runId: fx.runId, class: fx.cls }), same: true, missing: { runId: 9999, class: 0 } },
    'runs.tree': { valid: () => ({ runId: fx.runId }), same: true, missing: { runId: 9999 } },
    'ablation.detect': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true },
    'ablation.apply': { valid: () => ({ runId: fx.runId, individualId: fx.individualId, class: fx.cls, mask: fx.mask }), same: true },
    'ablation.save': { valid: () => ({ runId: fx.runId, individualId: fx.individualId, class: fx.cls, mask: fx.mask, note: 'contract' }) },
    'ablation.list': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true },
    'ablation.copies': { valid: () => ({ runId: fx.runId, individualId: fx.motif.individualId, class: fx.motif.cls, motif: 0, draws: 3 }), same: true, missing: { runId: 9999, individualId: 0, class: 0, motif: 0 } },
    'genome.nodes': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true, missing: { runId: 9999, individualId: 0 } },
    'genome.apply': { valid: () => ({ runId: fx.runId, individualId: fx.individualId, class: fx.cls, edits: [{ op: 'node-off', node: 4 }] }), same: true, missing: { runId: 9999, individualId: 0, class: 0, edits: [] } },
    'genome.repetition': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true, missing: { runId: 9999, individualId: 0 } },
    'genome.save': { valid: () => ({ runId: fx.runId, individualId: fx.individualId, class: fx.cls, edits: [{ op: 'node-off', node: 4, value: 'mean' }] }), missing: { runId: 9999, individualId: 0, class: 0, edits: [{ op: 'node-off', node: 4 }] } },
    'genome.list': { valid: () => ({ runId: fx.runId, individualId: fx.individualId }), same: true, missing: { runId: 9999, individualId: 0 } },
    'export.run': { valid: (h) => ({ runId: fx.runId, outDir: join(dir, `export-${h}`) }), missing: { runId: 9999, outDir: join(dir, 'x') } },
    'export.start': {
      valid: (h) => ({ runId: fx.runId, outDir: join(dir, `export-job-${h}`) }),
      missing: { runId: 9999, outDir: join(dir, 'x') },
      after: async (h, r) => {
        const end = await ended((r as { jobId: number }).jobId);
        expect(end).toMatchObject({ status: 'finished', result: { dir: join(dir, `export-job-${h}`), done: true, files: expect.arrayContaining(['index.html', 'manifest.json']) } });
      },
    },
    'runs.report': { valid: () => ({ runId: fx.runId }), same: true, missing: { runId: 9999 } },
    'runs.delete': { valid: (h) => ({ runId: made[h].run }), missing: { runId: 9999 } },
    'runs.exportLab': { valid: (h) => ({ runId: fx.runId, out: join(dir, `shared-${h}.db`) }), missing: { runId: 9999, out: join(dir, 'x.db') } },
    // The exported run was born in this lab: importing it back adds nothing.
    'runs.import': {
      valid: (h) => ({ file: join(dir, `shared-${h}.db`) }),
      missing: { file: join(dir, 'none.db') },
      after: async (_h, r) => {
        const end = await ended((r as { jobId: number }).jobId);
        expect(end).toMatchObject({ status: 'finished', result: { imported: [], skipped: [{ runId: fx.runId }] } });
      },
    },
    // A one-task local sweep (a real `fool evolve` in its own lab), imported; resuming it has nothing to redo.
    'sweeps.start': {
      valid: (h) => ({ spec: { models: [MODEL], encodings: ['cppn'], seeds: [1], generations: 1, batch: 10, dir: join(dir, `sweep-${h}`) } }),
      missing: { spec: { models: ['nope'], encodings: ['cppn'], seeds: [1], generations: 1, dir: join(dir, 'sweep-x') } },
      after: async (h, r) => {
        const { jobId, sweepId } = r as { jobId: number; sweepId: number };
        expect(await ended(jobId)).toMatchObject({ status: 'finished', result: { sweepId, imported: 1, failed: 0 } });
        made[h].sweep = sweepId;
      },
    },
    'sweeps.list': { valid: () => ({}), same: true },
    'sweeps.get': { valid: (h) => ({ sweepId: made[h].sweep }), missing: { sweepId: 9999 } },
    'sweeps.resume': {
      valid: (h) => ({ sweepId: made[h].sweep }),
      missing: { sweepId: 9999 },
      after: async (_h, r) => {
        expect(r).toMatchObject({ resubmitted: [] });
        expect((await ended((r as { jobId: number }).jobId)).status).toBe('finished');
      },
    },
    'models.get': { valid: () => ({ name: MODEL }), same: true, missing: { name: 'nope' } },
    'models.add': {
      valid: (h) => ({ file: ONNX, name: `copy-${h}`, preset: 'mnist' }),
      missing: { file: join(dir, 'none.onnx'), name: 'x', preset: 'mnist' },
      after: async (_h, r) => expect(r).toMatchObject({ check: { dataset: 'mnist-test-1000', passed: true } }),
    },
    'models.remove': { valid: (h) => ({ name: `copy-${h}` }), missing: { name: 'nope' } },
    'models.catalogue': { valid: () => ({}), same: true },
    'models.download': {
      // The smallest catalogue model; offline (as here) the job fails with the offline message.
      valid: (h) => ({ name: 'squeezenet1.0', as: `dl-${h}` }),
      missing: { name: 'nope' },
      after: async (_h, r) => {
        const end = await ended((r as { jobId: number }).jobId);
        if (end.status === 'failed') expect(end.error).toMatchObject({ code: 'OFFLINE', message: expect.stringMatching(/fool models add \S+ --name dl-\w+ --preset caffe-imagenet/) });
        else expect(end).toMatchObject({ status: 'finished', result: { check: { passed: true } } });
      },
    },
    'models.eval': {
      valid: () => ({ name: MODEL }),
      missing: { name: 'nope' },
      after: async (h, r) => {
        const end = await ended((r as { jobId: number }).jobId);
        expect(end).toMatchObject({ status: 'finished', result: { model: MODEL, n: 10000 } });
        made[h].accuracy = (end.result as { accuracy: number }).accuracy;
      },
    },
    classify: { valid: () => ({ model: MODEL, files: [fx.png] }), same: true, missing: { model: MODEL, files: [join(dir, 'none.png')] } },
    'ascent.start': {
      valid: () => ({ model: MODEL, classes: '3', steps: 3 }),
      missing: { model: 'nope' },
      after: async (h, r) => {
        const end = await ended((r as { jobId: number }).jobId);
        expect(end).toMatchObject({ status: 'finished', result: { model: MODEL, results: [{ class: 3 }] } });
        made[h].ascent = (end.result as { runId: number }).runId;
      },
    },
    'runs.ascent': { valid: (h) => ({ runId: made[h].ascent }), missing: { runId: 9999 } },
    'train.start': {
      // Started, then cancelled at once: stopped during its first epoch, nothing written.
      valid: (h) => ({ out: join(dir, `train-${h}.onnx`), epochs: 1 }),
      after: async (h, r) => {
        const { jobId } = r as { jobId: number };
        expect(result(await call(h, 'jobs.cancel', { jobId }))).toEqual({ jobId, cancelled: true });
        const end = await ended(jobId);
        expect(end).toMatchObject({ status: 'cancelled', result: { stopped: true } });
        expect(existsSync(join(dir, `train-${h}.onnx`))).toBe(false);
      },
    },
    'dataset.export': { valid: (h) => ({ runs: [fx.runId], outDir: join(dir, `dataset-${h}`) }), missing: { runs: [9999], outDir: join(dir, 'x') } },
    'experiments.kinds': { valid: () => ({}), same: true },
    'experiments.list': { valid: () => ({}), same: true },
    'experiments.get': { valid: () => ({ experimentId: fx.experimentId }), same: true, missing: { experimentId: 9999 } },
    'experiments.start': { valid: () => ({ kind: 'ablate', params: { runId: fx.runId, seed: 2 } }), after: jobEnds('finished'), missing: { kind: 'ablate', params: { runId: 9999 } } },
    'runs.writeReport': { valid: (h) => ({ runId: fx.runId, outDir: join(dir, `run-report-${h}`) }), missing: { runId: 9999, outDir: join(dir, 'y') } },
    'experiments.report': { valid: (h) => ({ experimentId: fx.experimentId, outDir: join(dir, `report-${h}`) }), missing: { experimentId: 9999, outDir: join(dir, 'x') } },
    'jobs.list': { valid: () => ({}), same: true },
    'jobs.get': { valid: () => ({ jobId: fx.jobId }), same: true, missing: { jobId: 9999 } },
    'jobs.cancel': { valid: () => ({ jobId: fx.jobId }), same: true, missing: { jobId: 9999 } },
    'doctor.info': { valid: () => ({}), same: true },
  };

  it('has a case for every method of the contract', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(ApiRequests).sort());
  });

  it('answers every method with valid parameters the same through HTTP and IPC', async () => {
    // The order of the table: runs.resume follows runs.start, models.remove follows models.add, ...
    for (const method of Object.keys(CASES) as ApiMethod[]) {
      const c = CASES[method];
      const replies: Partial<Record<Host, Reply>> = {};
      for (const h of ['http', 'ipc'] as Host[]) {
        const r = await call(h, method, c.valid(h));
        expect(r, `${method} via ${h}: ${r.ok ? '' : r.error.message}`).toMatchObject({ ok: true });
        replies[h] = r;
        await c.after?.(h, (r as { result: unknown }).result);
      }
      if (c.same) expect(replies.http, method).toEqual(replies.ipc);
      else expect(shape((replies.http as { result: unknown }).result), method).toEqual(shape((replies.ipc as { result: unknown }).result));
    }
    // The same model evaluated through either host: the same accuracy.
    expect(made.http.accuracy).toBe(made.ipc.accuracy);
  }, 300_000);

  it('refuses invalid parameters with the same error through both hosts (HTTP 400, 404 for a missing thing)', async () => {
    for (const method of Object.keys(CASES) as ApiMethod[]) {
      const h = await http(method, { bogus: 1 });
      const i = await ipc(method, { bogus: 1 });
      expect(h.status, method).toBe(400);
      expect(i, method).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      expect({ ok: h.ok, error: (h as { error: unknown }).error }, method).toEqual(i);
      const missing = CASES[method].missing;
      if (missing === undefined) continue;
      const hm = await http(method, missing);
      const im = await ipc(method, missing);
      expect(im.ok, method).toBe(false);
      expect({ ok: hm.ok, error: (hm as { error: unknown }).error }, method).toEqual(im);
      expect(hm.status, method).toBe(im.ok ? 200 : im.error.code === 'NOT_FOUND' ? 404 : 400);
    }
    // A kind's own schema validates its parameters, and an unknown kind is named.
    for (const params of [{ kind: 'ablate', params: { runId: 'one' } }, { kind: 'no-such-kind', params: {} }]) {
      const h = await http('experiments.start', params);
      const i = await ipc('experiments.start', params);
      expect(i).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      expect({ ok: h.ok, error: (h as { error: unknown }).error }).toEqual(i);
    }
    expect((await ipc('no.such.method', {})).ok).toBe(false);
  }, 120_000);
});

describe("invalid requests in the lab's words", () => {
  const message = (method: string, params: unknown) => {
    const r = parseRequest(method, params);
    return r.ok ? null : r.error.message;
  };
  it("names the field, what it must be and what was sent, not zod's sentences (the app shows them)", () => {
    expect(message('runs.resume', { runId: 1, generations: -1 })).toBe('invalid request to runs.resume: generations must be >= 1 (got -1)');
    expect(message('runs.resume', { runId: 1, generations: '-1' })).toBe('invalid request to runs.resume: generations must be a number (got "-1")');
    expect(message('runs.resume', { runId: 1, generations: 1.5 })).toBe('invalid request to runs.resume: generations must be a whole number (got 1.5)');
    expect(message('runs.resume', {})).toBe('invalid request to runs.resume: runId is required');
    expect(message('runs.start', { model: 'lenet-mnist', encoding: 'pixels' })).toMatch(/^invalid request to runs.start: encoding must be one of "[a-z]+", "[a-z]+" \(got "pixels"\)$/);
  });
});

/** The structure of a result: keys and value types, not the values (ids and folders differ by host). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}
