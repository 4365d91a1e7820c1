import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams } from '../src/shared/api';
import { experimentKinds, LabApi, registerExperiment } from '../src/main/core/api';
import { defineExperiment } from '../src/main/core/experiments/kind';
import { Lab } from '../src/main/core/lab';
import { ExperimentStore } from '../src/main/core/store/experiments';
import { registerExperiments } from '../src/main/cli/commands/experiments';
import { paramsFrom, withParams } from '../src/main/cli/commands/params';
import { formFields, formParams, formProblem, initialValues } from '../src/renderer/src/lib/param-form';
import { apiResult, tempDir } from './helpers';

/**
 * Every experiment kind through the API as the app drives it: started (a job), followed (job
 * events), cancelled, and read back (experiments.get, experiments.report). Small MNIST settings on
 * the shipped LeNet. Then a toy kind, registered at run time, runs through the same door.
 */

const MODEL = 'lenet-mnist';
const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));

/** The one-file recipe of docs/architecture.md: a kind that counts to n, one step per tick. */
const toy = defineExperiment<{ n: number; step: number; label: string }, { counted: number[]; label: string; done: boolean }>({
  kind: 'toy-count',
  description: 'counts to n (a test of the experiment registry)',
  params: [
    { name: 'n', type: 'int', label: 'Count to', help: 'how far', max: 1000, required: true, cli: '--n <n>' },
    { name: 'step', type: 'int', label: 'Step', help: 'counts in steps of this many', max: 5, default: 1 },
    { name: 'label', type: 'text', label: 'Label', help: 'the name its report shows', default: 'toy' },
  ],
  run: async (p, ctx) => {
    const store = new ExperimentStore(ctx.lab.db);
    const id = store.create('toy-count', p);
    ctx.ids({ experimentId: id });
    const result = { counted: [] as number[], label: p.label, done: false };
    for (let i = p.step; i <= p.n && !ctx.signal.aborted; i += p.step) {
      await new Promise((ok) => setTimeout(ok, 5));
      result.counted.push(i);
      ctx.progress({ done: i, total: p.n, message: `counted ${i}` });
    }
    result.done = !ctx.signal.aborted;
    store.setResult(id, result);
    return { id, result };
  },
  text: (r) => r.counted.join(' '),
  report: (r) => ({ sections: [{ title: `Counted by ${r.label}`, html: `<p>${r.counted.join(', ')}</p>` }], plots: [] }),
  cli: {},
});
/** The registry is the process's: the toy is registered once, by whichever test runs first. */
const registerToy = () => experimentKinds().some((k) => k.kind === 'toy-count') || registerExperiment(toy);

describe.skipIf(!HAS_MODEL)('experiments through the API', () => {
  const dir = tempDir('fool-exp-api-');
  let api: LabApi;
  const events: ApiEvent[] = [];
  let runId = 0;

  const ok = <M extends ApiMethod>(method: M, params: ApiParams<M>) => apiResult(api, method, params);
  function end(jobId: number): Promise<Extract<ApiEvent, { type: 'job.end' }>> {
    return new Promise((done) => {
      const seen = events.find((e) => e.type === 'job.end' && e.jobId === jobId);
      if (seen) return done(seen as Extract<ApiEvent, { type: 'job.end' }>);
      const off = api.onEvent((e) => {
        if (e.type === 'job.end' && e.jobId === jobId) {
          off();
          done(e);
        }
      });
    });
  }
  function firstProgress(jobId: number): Promise<void> {
    return new Promise((done) => {
      if (events.some((e) => e.type === 'job.progress' && e.jobId === jobId)) return done();
      const off = api.onEvent((e) => {
        if (e.type === 'job.progress' && e.jobId === jobId) {
          off();
          done();
        }
      });
    });
  }
  const progressOf = (jobId: number) => events.filter((e): e is Extract<ApiEvent, { type: 'job.progress' }> => e.type === 'job.progress' && e.jobId === jobId);

  /** Starts a kind, follows it to its end, reads it back; returns the stored result. */
  async function runKind(kind: string, params: Record<string, unknown>) {
    const { jobId, experimentId } = await ok('experiments.start', { kind, params });
    expect((await ok('jobs.get', { jobId })).experimentId).toBe(experimentId);
    const e = await end(jobId);
    expect(e, JSON.stringify(e.error)).toMatchObject({ status: 'finished', experimentId });
    expect(progressOf(jobId).length).toBeGreaterThan(0);
    const got = await ok('experiments.get', { experimentId });
    expect(got).toMatchObject({ id: experimentId, finished: true });
    const report = await ok('experiments.report', { experimentId, outDir: join(dir, `report-${experimentId}`) });
    expect(report.files).toContain('index.html');
    return { experimentId, result: got.result as Record<string, unknown>, jobId, report };
  }

  /** Resolves at the job's first progress event with at least `done` units done. */
  function progressAt(jobId: number, done: number): Promise<void> {
    return new Promise((ok) => {
      if (progressOf(jobId).some((e) => e.done >= done)) return ok();
      const off = api.onEvent((e) => {
        if (e.type === 'job.progress' && e.jobId === jobId && e.done >= done) {
          off();
          ok();
        }
      });
    });
  }

  /** Starts a kind and cancels it at its first progress event (or once `atDone` units are done). */
  async function cancelKind(kind: string, params: Record<string, unknown>, atDone?: number) {
    const { jobId, experimentId } = await ok('experiments.start', { kind, params });
    await (atDone === undefined ? firstProgress(jobId) : progressAt(jobId, atDone));
    expect(await ok('jobs.cancel', { jobId })).toEqual({ jobId, cancelled: true });
    const e = await end(jobId);
    expect(e.status).toBe('cancelled');
    return { e, stored: await ok('experiments.get', { experimentId }) };
  }

  beforeAll(async () => {
    api = new LabApi(new Lab(join(dir, 'lab.db')), { classifier: { workers: 1 }, renderWorkers: 1 });
    api.onEvent((e) => events.push(e));
    const { jobId, runId: id } = await ok('runs.start', { model: MODEL, encoding: 'cppn', generations: 2, batch: 10, seed: 9 });
    expect((await end(jobId)).status).toBe('finished');
    runId = id;
  }, 60_000);
  afterAll(() => api?.close());

  it('lists the kinds of the registry', async () => {
    const kinds = (await ok('experiments.kinds', {})).map((k) => k.kind);
    expect(kinds).toEqual(expect.arrayContaining(['transfer', 'reproduce', 'retrain', 'ablate']));
  });

  it('transfer: started, followed, read back; cancelled, it keeps the models done', async () => {
    const { result } = await runKind('transfer', { runs: [runId], models: [MODEL] });
    expect(result).toMatchObject({ sources: [MODEL], targets: [MODEL] });
    const { e, stored } = await cancelKind('transfer', { runs: [runId], models: [MODEL] });
    expect((e.result as { targets: string[] }).targets).toEqual([MODEL]);
    // Its one model was done (ten images: one chunk), so nothing was cut short.
    expect(stored).toMatchObject({ finished: true, cancelled: false, result: { done: true } });
  }, 60_000);

  it('ablate: started, followed (a progress event per champion), read back; cancelled, it keeps the champions done', async () => {
    const { result, report, jobId } = await runKind('ablate', { runId });
    expect(result).toMatchObject({ runId, model: MODEL, done: true });
    const champions = (result.images as unknown[]).length;
    expect(champions).toBeGreaterThan(2);
    expect(progressOf(jobId).map((p) => p.done)).toEqual(Array.from({ length: champions + 1 }, (_, i) => i));
    expect(readFileSync(join(report.dir, 'index.html'), 'utf8')).toMatch(/Per champion/);
    const { e, stored } = await cancelKind('ablate', { runId }, 1);
    const partial = e.result as { done: boolean; images: { class: number }[] };
    expect(partial.done).toBe(false);
    expect(partial.images.length).toBeGreaterThan(0);
    expect(partial.images.length).toBeLessThan(champions);
    // The champions done are the first ones of the full pass, with the same figures (seeded control).
    expect(partial.images).toEqual((result.images as unknown[]).slice(0, partial.images.length));
    expect(stored).toMatchObject({ finished: false, cancelled: true, result: { done: false } });
    const rep = await ok('experiments.report', { experimentId: stored.id, outDir: join(dir, 'ablate-stopped') });
    expect(readFileSync(join(rep.dir, 'index.html'), 'utf8')).toMatch(/Stopped/);
  }, 60_000);

  it('ablate --genome: cancelled, it stores the champions done, marked not done', async () => {
    const { e, stored } = await cancelKind('ablate', { runId, genome: true, draws: 1 });
    const partial = e.result as { done: boolean; images: unknown[] };
    expect(partial.done).toBe(false);
    expect(stored).toMatchObject({ finished: false, cancelled: true, result: { done: false } });
    expect((stored.result as { images: unknown[] }).images.length).toBe(partial.images.length);
  }, 60_000);

  it('ascent: cancelled during its steps, it ends cancelled and stores the images so far as a stopped run', async () => {
    // 10 classes on one worker: a first group of 8 starts; the others never begin.
    const { jobId } = await ok('ascent.start', { model: MODEL, classes: '0-9', steps: 1_000_000, target: 0.999999, workers: 1 });
    await firstProgress(jobId);
    expect(await ok('jobs.cancel', { jobId })).toEqual({ jobId, cancelled: true });
    const e = await end(jobId);
    expect(e.status).toBe('cancelled');
    const r = e.result as { runId: number; done: boolean; results: { class: number; steps: number }[] };
    expect(r.done).toBe(false);
    expect(r.results.length).toBeGreaterThan(0);
    expect(r.results.length).toBeLessThan(10);
    for (const x of r.results) expect(x.steps).toBeLessThan(1_000_000);
    expect((await ok('runs.get', { runId: r.runId })).run.status).toBe('stopped');
    expect((await ok('runs.champions', { runId: r.runId })).map((c) => c.class).sort((a, b) => a - b)).toEqual(r.results.map((x) => x.class).sort((a, b) => a - b));
  }, 60_000);

  it('reproduce: progress per generation; cancelled, the result says not done and the run is kept', async () => {
    const { result, jobId } = await runKind('reproduce', { encodings: ['cppn'], seeds: [1], generations: 2, checkpoint: 1, batch: 10 });
    expect(result).toMatchObject({ model: MODEL, done: true, rows: [expect.objectContaining({ encoding: 'cppn', seed: 1 })] });
    expect(progressOf(jobId).map((p) => p.done)).toEqual([0, 1, 2]);
    const { e, stored } = await cancelKind('reproduce', { encodings: ['direct'], seeds: [1], generations: 500, checkpoint: 1, batch: 10 });
    expect(e.result).toMatchObject({ done: false, rows: [] });
    expect(stored.result).toMatchObject({ done: false });
    expect((await ok('runs.list', {})).some((r) => r.status === 'stopped')).toBe(true);
  }, 120_000);

  it('retrain: started, followed, cancelled during its runs, read back with the iterations so far', async () => {
    // (A finished loop is tested through the CLI in experiment-retrain.test.ts.)
    const { e, stored } = await cancelKind('retrain', { iterations: 2, runsPerIteration: 1, generations: 200, batch: 10, workDir: join(dir, 'retrain') });
    expect(e.result).toMatchObject({ done: false, iterations: [] });
    expect(stored).toMatchObject({ finished: false, cancelled: true, result: { done: false } });
    const report = await ok('experiments.report', { experimentId: stored.id, outDir: join(dir, 'retrain-report') });
    expect(readFileSync(join(report.dir, 'index.html'), 'utf8')).toMatch(/Not finished/);
  }, 120_000);

  it('export: a job with a progress event per file; cancelled, the folder is consistent (every listed image there, marked incomplete)', async () => {
    const champions = (await ok('runs.champions', { runId })).length;
    expect(champions).toBeGreaterThan(2);
    const full = await ok('export.start', { runId, outDir: join(dir, 'export-full') });
    const e = await end(full.jobId);
    expect(e.status).toBe('finished');
    expect(e.result).toMatchObject({ dir: join(dir, 'export-full'), champions, done: true });
    expect(progressOf(full.jobId).map((p) => p.done)).toEqual(Array.from({ length: champions + 3 }, (_, i) => i + 1));
    expect(progressOf(full.jobId).at(-1)).toMatchObject({ total: champions + 3, message: 'manifest.json' });

    const out = join(dir, 'export-stopped');
    const { jobId } = await ok('export.start', { runId, outDir: out });
    await progressAt(jobId, 1);
    expect(await ok('jobs.cancel', { jobId })).toEqual({ jobId, cancelled: true });
    const stopped = await end(jobId);
    expect(stopped.status).toBe('cancelled');
    const r = stopped.result as { champions: number; done: boolean; files: string[] };
    expect(r.done).toBe(false);
    expect(r.champions).toBeGreaterThan(0);
    expect(r.champions).toBeLessThan(champions);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { complete: boolean; champions: { file: string }[] };
    expect(manifest.complete).toBe(false);
    expect(manifest.champions.map((c) => c.file).sort()).toEqual(readdirSync(join(out, 'images')).map((f) => `images/${f}`).sort());
    expect(r.files).toEqual(expect.arrayContaining(['contact-sheet.png', 'index.html', 'manifest.json', ...manifest.champions.map((c) => c.file)]));
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/Stopped/);
    // The folder is Fooling Lab's: a new export may write over it, and completes it.
    const again = await ok('export.start', { runId, outDir: out });
    expect(await end(again.jobId)).toMatchObject({ status: 'finished', result: { champions, done: true } });
    // Bad input is refused at the start, not as a failed job.
    expect(await api.call('export.start', { runId, outDir: join(dir, 'x'), classes: [99] })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/class 99 is out of range/) } });
  }, 60_000);

  it('refuses bad parameters before anything is stored', async () => {
    const before = (await ok('experiments.list', {})).length;
    for (const [kind, params, pattern] of [
      ['reproduce', { generations: 10, checkpoint: 20 }, /checkpoint \(20\)/],
      ['transfer', { runs: [runId] }, /models/],
      ['retrain', { iterations: 0 }, /iterations/],
    ] as [string, Record<string, unknown>, RegExp][]) {
      const r = await api.call('experiments.start', { kind, params });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(pattern) });
    }
    expect((await ok('experiments.list', {})).length).toBe(before);
  });

  it('a toy kind registered at run time runs, reports and cancels through the API', async () => {
    registerToy();
    expect((await ok('experiments.kinds', {})).map((k) => k.kind)).toContain('toy-count');
    const { result, jobId, report } = await runKind('toy-count', { n: 4 });
    expect(result).toEqual({ counted: [1, 2, 3, 4], label: 'toy', done: true });
    expect(progressOf(jobId).map((p) => p.message)).toEqual(['counted 1', 'counted 2', 'counted 3', 'counted 4']);
    expect(readFileSync(join(report.dir, 'index.html'), 'utf8')).toMatch(/Counted by toy/);
    const { e } = await cancelKind('toy-count', { n: 1000 });
    expect((e.result as { done: boolean }).done).toBe(false);
    // Its schema guards it like the shipped kinds'.
    const bad = await api.call('experiments.start', { kind: 'toy-count', params: { n: -1 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/^invalid parameters for a toy-count experiment: n:/) } });
  });

  it("one description of a parameter is the CLI's option, the API's check and the app's form field", async () => {
    registerToy();
    // The CLI: the toy's command lists --step with its help and default, parses it, and refuses a
    // value out of bounds before anything runs.
    const program = new Command('fool');
    registerExperiments(program);
    const help = program.commands.find((c) => c.name() === 'toy-count')!.helpInformation();
    expect(help).toMatch(/--n <n>\s+how far/);
    expect(help).toMatch(/--step <value>\s+counts in steps of this many \(default: 1\)/);
    const cli = () => {
      const errors: string[] = [];
      const cmd = withParams(new Command('toy-count'), toy.params).exitOverride().configureOutput({ writeErr: (m) => errors.push(m) });
      return { cmd, errors };
    };
    const good = cli().cmd.parse(['--n', '4', '--step', '2'], { from: 'user' });
    expect(paramsFrom(toy.params, good.opts(), good.processedArgs)).toEqual({ n: 4, step: 2, label: 'toy' });
    const badCli = cli();
    expect(() => badCli.cmd.parse(['--n', '4', '--step', '9'], { from: 'user' })).toThrow();
    expect(badCli.errors.join('')).toMatch(/--step must be a whole number from 1 to 5, got "9"/);

    // The API: the same bounds.
    const bad = await api.call('experiments.start', { kind: 'toy-count', params: { n: 4, step: 9 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/^invalid parameters for a toy-count experiment: step: .*5/) } });

    // The app: experiments.kinds hands the description over; the form has the field, with its
    // label, help and default, and what is typed in it is what the kind runs with.
    const kind = (await ok('experiments.kinds', {})).find((k) => k.kind === 'toy-count')!;
    const step = formFields(kind.params).find((f) => f.key === 'step')!;
    expect(step.spec).toMatchObject({ type: 'int', label: 'Step', help: 'counts in steps of this many' });
    const values = initialValues(kind.params);
    expect(values).toEqual({ n: '', step: '1', label: 'toy' });
    Object.assign(values, { n: '7', step: '3' });
    expect(formParams(kind.params, values)).toEqual({ n: 7, step: 3, label: 'toy' });
    const { result } = await runKind('toy-count', formParams(kind.params, values));
    expect(result).toMatchObject({ counted: [3, 6], done: true });
    // A wrong value: the form finds it with the same schema, named by the field's label ...
    expect(formProblem(kind.params, formParams(kind.params, { ...values, step: '9' }))).toEqual({ key: 'step', message: expect.stringMatching(/^Step: .*5/) });
    expect(formProblem(kind.params, formParams(kind.params, initialValues(kind.params)))).toEqual({ key: 'n', message: 'Count to: required' });
    // ... and what is typed goes as typed, so the host names it too.
    const typo = await api.call('experiments.start', { kind: 'toy-count', params: formParams(kind.params, { ...values, step: 'two' }) });
    expect(typo).toMatchObject({ ok: false, error: { message: expect.stringMatching(/step: .*number/) } });
  });
});
