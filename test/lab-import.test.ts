import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams, ApiResults, ImportResult } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import { RunStore } from '../src/main/core/store/runs';
import { openDb, SCHEMA_VERSION } from '../src/main/core/store/db';
import { fool, foolJson, HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';

/**
 * Moving runs between labs (`fool runs import`, `fool runs export-lab`): real labs made by real
 * (short) evolution runs of the shipped LeNet, copied with the real CLI.
 */

const MODEL = 'lenet-mnist';
const ONNX = resolve(__dirname, '../resources/models/lenet-mnist.onnx');
const HAS_MODEL = existsSync(ONNX);
const FOOL = resolve(__dirname, '../bin/fool.js');

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every API event also goes here (a test that needs to act mid-job sets it). */
let listen: (e: ApiEvent) => void = () => {};

/** Opens a lab's API, does `work`, closes it (so its file is whole on disk: WAL checkpointed). */
async function withApi<T>(db: string, work: (call: <M extends ApiMethod>(m: M, p: ApiParams<M>) => Promise<ApiResults[M]>, ended: (jobId: number) => Promise<Extract<ApiEvent, { type: 'job.end' }>>) => Promise<T>): Promise<T> {
  const api = new LabApi(new Lab(db), { classifier: { workers: 1 }, renderWorkers: 1 });
  const ends = new Map<number, Extract<ApiEvent, { type: 'job.end' }>>();
  const waiting = new Map<number, () => void>();
  api.onEvent((e) => {
    listen(e);
    if (e.type !== 'job.end') return;
    ends.set(e.jobId, e);
    waiting.get(e.jobId)?.();
  });
  const call = async <M extends ApiMethod>(m: M, p: ApiParams<M>): Promise<ApiResults[M]> => {
    const r = await api.call(m, p);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.result as ApiResults[M];
  };
  const ended = (jobId: number) =>
    new Promise<Extract<ApiEvent, { type: 'job.end' }>>((done) => {
      if (ends.has(jobId)) return done(ends.get(jobId)!);
      waiting.set(jobId, () => done(ends.get(jobId)!));
    });
  try {
    return await work(call, ended);
  } finally {
    await api.close();
  }
}

/** What a user compares between two labs' copies of a run: statistics, champions, and every champion's lineage with its genomes. */
function runContent(db: string, runId: number) {
  const lab = new Lab(db);
  try {
    const r = lab.runs.get(runId);
    const champions = lab.runs.champions(runId);
    const lineages = champions.map((c) => lab.runs.lineage(runId, c.class).map((i) => ({ id: i.id, parentId: i.parentId, generation: i.generation, genome: sha256(i.genome), won: i.won })));
    return { encoding: r.encoding, seed: r.seed, settings: r.settings, lastGeneration: r.lastGeneration, evaluations: r.evaluations, stats: lab.runs.stats(runId), champions, lineages };
  } finally {
    lab.close();
  }
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

if (!HAS_MODEL) console.warn('[skip] lab-import: the shipped LeNet (resources/models) is missing');

describe.skipIf(!HAS_MODEL || !HAS_SHARED)(`fool runs import / export-lab (${HAS_SHARED ? 'Caffe LeNet as the user model' : SKIP_SHARED_REASON})`, () => {
  const dir = tempDir('fool-import-');
  const source = join(dir, 'cluster.db');
  const runs: Record<string, number> = {};
  let experimentId = 0;

  beforeAll(async () => {
    // The lab a cluster node made: a direct-encoding run (genomes stored as deltas), a CPPN run, a run
    // on a user model (Caffe's LeNet) and an ablation experiment.
    await withApi(source, async (call, ended) => {
      await call('models.add', { file: MODELS.lenet, name: 'node-lenet', preset: 'mnist' });
      for (const [key, model, encoding, seed] of [['direct', MODEL, 'direct', 1], ['cppn', MODEL, 'cppn', 2], ['user', 'node-lenet', 'direct', 3]] as const) {
        const r = await call('runs.start', { model, encoding, generations: 4, batch: 20, seed });
        expect((await ended(r.jobId)).status).toBe('finished');
        runs[key] = r.runId;
      }
      const e = await call('experiments.start', { kind: 'ablate', params: { runId: runs.cppn } });
      expect((await ended(e.jobId)).status).toBe('finished');
      experimentId = e.experimentId;
    });
  }, 300_000);

  it('copies every run whole (statistics, champions, lineages with their genomes), with its provenance, and leaves the source bytes unchanged', async () => {
    const target = join(dir, 'desk.db');
    const before = sha(source);
    const r = await foolJson<ImportResult>(['runs', 'import', source, '--db', target]);
    expect(sha(source)).toBe(before);
    expect(r.imported.map((i) => i.sourceRunId)).toEqual([runs.direct, runs.cppn, runs.user]);
    expect(r.skipped).toEqual([]);
    for (const { sourceRunId, runId } of r.imported) expect(runContent(target, runId)).toEqual(runContent(source, sourceRunId));
    // The direct run's genomes are mostly stored as deltas against their parents (store/genome-delta.ts):
    // copied as they are, under the new run id, the chains resolve to the same genomes (checked above).
    const raw = new Database(target, { readonly: true });
    const newDirect = r.imported.find((i) => i.sourceRunId === runs.direct)!.runId;
    expect((raw.prepare('SELECT COUNT(*) AS n FROM individuals WHERE run_id = ? AND genome_base IS NOT NULL').get(newDirect) as { n: number }).n).toBeGreaterThan(0);
    raw.close();
    // The ablation experiment came along, pointing at the CPPN run's new id.
    expect(r.experiments).toEqual([{ sourceExperimentId: experimentId, experimentId: 1, kind: 'ablation' }]);
    const newCppn = r.imported.find((i) => i.sourceRunId === runs.cppn)!.runId;
    await withApi(target, async (call) => {
      expect((await call('experiments.get', { experimentId: 1 })).params).toMatchObject({ runId: newCppn });
    });
    const show = await foolJson<{ origin: { runId: number; sourcePath: string; sourceHost: string; lab: string } }>(['runs', 'show', String(newCppn), '--db', target]);
    expect(show.origin).toMatchObject({ runId: runs.cppn, sourcePath: source });
    expect(show.origin.sourceHost.length).toBeGreaterThan(0);
    expect(show.origin.lab).toMatch(/^[0-9a-f]{32}$/);
    // The user model was copied beside the lab, under its name, and works.
    expect(r.models).toEqual([
      { name: MODEL, as: MODEL, hash: sha(ONNX), copied: false },
      { name: 'node-lenet', as: 'node-lenet', hash: sha(MODELS.lenet), copied: true },
    ]);
    const models = await foolJson<{ name: string; source: string }[] | { models: { name: string; source: string }[] }>(['models', 'list', '--db', target]);
    const list = Array.isArray(models) ? models : models.models;
    expect(list.map((m) => m.name)).toContain('node-lenet');
  }, 120_000);

  it('is idempotent: a second import, or importing an exported copy of an imported run, adds nothing', async () => {
    const target = join(dir, 'twice.db');
    const first = await foolJson<ImportResult>(['runs', 'import', source, '--db', target]);
    const second = await foolJson<ImportResult>(['runs', 'import', source, '--db', target]);
    expect(second.imported).toEqual([]);
    expect(second.experiments).toEqual([]);
    expect(second.skipped).toEqual(first.imported);
    const list = await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', target]);
    expect(list.runs).toHaveLength(3);
    // A run shared onwards keeps its birth lab: brought back to the lab it came from, it is known.
    const shared = join(dir, 'shared.db');
    await foolJson(['runs', 'export-lab', String(first.imported[0].runId), '--out', shared, '--db', target]);
    const back = await foolJson<ImportResult>(['runs', 'import', shared, '--db', target]);
    expect(back).toMatchObject({ imported: [], skipped: [{ runId: first.imported[0].runId }] });
    const home = join(dir, 'home.db');
    copyFileSync(source, home);
    const toSource = await foolJson<ImportResult>(['runs', 'import', shared, '--db', home]);
    expect(toSource).toMatchObject({ imported: [], skipped: [{ sourceRunId: 1, runId: runs.direct }] });
  }, 120_000);

  it('deduplicates models by content hash: a lab that has the same ONNX file under another name uses it', async () => {
    const target = join(dir, 'dedupe.db');
    await foolJson(['models', 'add', MODELS.lenet, '--name', 'my-lenet', '--preset', 'mnist', '--db', target]);
    const r = await foolJson<ImportResult>(['runs', 'import', source, '--runs', String(runs.user), '--db', target]);
    expect(r.models).toEqual([{ name: 'node-lenet', as: 'my-lenet', hash: sha(MODELS.lenet), copied: false }]);
    const show = await foolJson<{ model: string }>(['runs', 'show', String(r.imported[0].runId), '--db', target]);
    expect(show.model).toBe('my-lenet');
    const list = await foolJson<{ models: { name: string }[] } | { name: string }[]>(['models', 'list', '--db', target]);
    const names = (Array.isArray(list) ? list : list.models).map((m) => m.name);
    expect(names.filter((n) => n.includes('lenet')).sort()).toEqual([MODEL, 'my-lenet']);
    expect(existsSync(join(dir, 'dedupe.models', 'node-lenet'))).toBe(false);
  }, 120_000);

  it('refuses a lab from a newer schema without touching either lab', async () => {
    const newer = join(dir, 'newer.db');
    copyFileSync(source, newer);
    const raw = new Database(newer);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = sha(newer);
    const target = join(dir, 'refuses.db');
    const r = await fool(['runs', 'import', newer, '--db', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('newer Fooling Lab');
    expect(r.stderr).toContain('Update Fooling Lab');
    expect(sha(newer)).toBe(before);
    expect((await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', target])).runs).toEqual([]);
  }, 60_000);

  it('names what is wrong: a missing file, an unknown run id, a bad --runs', async () => {
    const target = join(dir, 'wrong.db');
    const missing = await fool(['runs', 'import', join(dir, 'nope.db'), '--db', target]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/there is no lab file .*nope\.db/);
    const unknown = await fool(['runs', 'import', source, '--runs', '99', '--db', target]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no run 99');
    const bad = await fool(['runs', 'import', source, '--runs', '1,x', '--db', target]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a list of run ids');
  }, 60_000);

  it('export-lab writes a lab with the one run, its models and its experiment, and refuses to overwrite a file', async () => {
    const out = join(dir, 'one-run.db');
    const r = await foolJson<{ file: string; runId: number; models: string[] }>(['runs', 'export-lab', String(runs.cppn), '--out', out, '--db', source]);
    expect(r).toEqual({ file: out, runId: 1, models: [] });
    expect(runContent(out, 1)).toEqual(runContent(source, runs.cppn));
    const list = await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', out]);
    expect(list.runs).toHaveLength(1);
    const user = await foolJson<{ models: string[] }>(['runs', 'export-lab', String(runs.user), '--out', join(dir, 'user-run.db'), '--db', source]);
    expect(user.models).toEqual(['node-lenet']);
    expect(existsSync(join(dir, 'user-run.models', 'node-lenet', 'model.onnx'))).toBe(true);
    const again = await fool(['runs', 'export-lab', String(runs.cppn), '--out', out, '--db', source]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  }, 60_000);

  it('a killed import (SIGKILL mid-way) leaves the lab as it was; the next import completes', async () => {
    // A big source, written by the real store: 30 generations of 1000 whole direct genomes (~90 MB).
    const big = join(dir, 'big.db');
    const db = openDb(big);
    const store = new RunStore(db);
    const runId = store.create({ kind: 'evolution', model: MODEL, encoding: 'direct', seed: 1, settings: { generations: 30 }, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    const genome = new Uint8Array(28 * 28 * 4);
    let id = 0;
    for (let g = 0; g < 30; g++) {
      const individuals = Array.from({ length: 1000 }, () => {
        genome[id % genome.length] = id & 255;
        return { id: ++id, parentId: null, generation: g, genome: new Uint8Array(genome), won: [[id % 10, 0.5]] as [number, number][], top: [] };
      });
      store.commitGeneration(runId, { individuals, champions: [{ class: g % 10, individualId: id, confidence: 0.5 }], stats: { generation: g, median: 0.5, mean: 0.5, max: 0.5, min: 0.5, occupied: 10, at99: 0, at9999: 0, evaluationsPerSecond: 1, seconds: 1 }, evaluations: 1000 });
    }
    db.close();

    const target = join(dir, 'killed.db');
    await foolJson(['runs', 'import', source, '--runs', String(runs.cppn), '--db', target]);
    const before = await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', target]);

    const child = spawn(process.execPath, [FOOL, 'runs', 'import', big, '--db', target], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const exit = new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    await new Promise<void>((started) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        // Inside the transaction: some rows copied, most not.
        if (/: \d+ rows/.test(err)) {
          child.kill('SIGKILL');
          started();
        }
      });
      void exit.then(() => started());
    });
    const end = await exit;
    expect(end, `the import ended before it could be killed: ${err}`).toEqual({ code: null, signal: 'SIGKILL' });

    const after = await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', target]);
    expect(after).toEqual(before);
    const check = new Database(target, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(check.prepare('SELECT COUNT(*) AS n FROM individuals WHERE run_id NOT IN (SELECT id FROM runs)').get()).toEqual({ n: 0 });
    check.close();

    const done = await foolJson<ImportResult>(['runs', 'import', big, '--db', target]);
    expect(done.imported).toHaveLength(1);
    const lab = new Lab(target);
    try {
      expect(lab.runs.get(done.imported[0].runId).lastGeneration).toBe(29);
      expect(lab.runs.parentLinks(done.imported[0].runId).size).toBe(30_000);
    } finally {
      lab.close();
    }
  }, 300_000);

  it('the lab keeps answering while a large import copies (the app is not frozen), and sees the run once it is in', async () => {
    // The 30,000-individual lab of the test above.
    const big = join(dir, 'big.db');
    expect(existsSync(big), 'the SIGKILL test makes big.db').toBe(true);
    await withApi(join(dir, 'served.db'), async (call, ended) => {
      let answered: { runs: number; jobEnded: boolean } | undefined;
      let jobEnded = false;
      let asked!: Promise<void>;
      const copying = new Promise<void>((mid) => {
        listen = (e) => {
          if (e.type === 'job.progress' && / rows$/.test(e.message) && !asked) {
            // A macrotask, as an HTTP request to `fool serve` would be: it runs only if the
            // copy is not holding this thread.
            asked = new Promise((done) => setTimeout(() => void call('runs.list', {}).then((r) => ((answered = { runs: r.length, jobEnded }), done())), 0));
            mid();
          }
          if (e.type === 'job.end') jobEnded = true;
        };
      });
      const { jobId } = await call('runs.import', { file: big });
      await copying;
      const end = await ended(jobId);
      await asked;
      expect(end.status).toBe('finished');
      // Answered before the import ended, and with the lab as it was (the copy is one transaction).
      expect(answered).toEqual({ runs: 0, jobEnded: false });
      expect((await call('runs.list', {})).length).toBe(1);
    });
  }, 120_000);
});
