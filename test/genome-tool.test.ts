import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMethod, ApiParams } from '../src/shared/api';
import type { GenomeAblationResult } from '../src/shared/genome';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import { apiResult, fool, foolJson, tempDir } from './helpers';
import { evolveRun } from './experiment-helpers';

/**
 * The genome tool and the paper's per-motif measure through the API (in process and over HTTP) and
 * `fool ablate --genome`, on short real runs against the shipped LeNet.
 */
const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));
const FOOL = resolve(__dirname, '../bin/fool.js');

describe.skipIf(!HAS_MODEL)('genome ablation through the API and the CLI', () => {
  const dir = tempDir('fool-genome-');
  const db = join(dir, 'lab.db');
  let cppn = 0;
  let direct = 0;
  let api: LabApi;

  const ok = <M extends ApiMethod>(method: M, params: ApiParams<M>) => apiResult(api, method, params);
  async function fails(method: string, params: unknown) {
    const r = await api.call(method, params);
    expect(r.ok).toBe(false);
    return r.ok ? { code: '', message: '' } : r.error;
  }

  beforeAll(async () => {
    cppn = await evolveRun(db, '--model', 'lenet-mnist', '--encoding', 'cppn', '--seed', '3', '--generations', '10');
    direct = await evolveRun(db, '--model', 'lenet-mnist', '--encoding', 'direct', '--generations', '1');
    api = new LabApi(new Lab(db), { classifier: { workers: 1 } });
  });
  afterAll(() => api?.close());

  const champ = async (runId: number) => (await ok('runs.champions', { runId }))[0];

  it('shows every node of a CPPN champion as an activation image', async () => {
    const c = await champ(cppn);
    const detail = await ok('individual.get', { runId: cppn, individualId: c.individualId });
    const nodes = await ok('genome.nodes', { runId: cppn, individualId: c.individualId });
    expect(nodes.map((n) => n.node).sort()).toEqual(detail.cppn!.nodes.filter((n) => n.kind !== 'input').map((n) => n.id).sort());
    for (const n of nodes) expect(n.png).toMatch(/^data:image\/png;base64,/);
    expect(nodes.find((n) => n.kind === 'output')!.label).toBe('grey');
    // MNIST images are fed whole: no crop
    expect(detail.crop).toBeNull();
  });

  it('switching the output node off changes the image and the confidence; no edit changes nothing', async () => {
    const c = await champ(cppn);
    const same = await ok('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [] });
    expect(same.confidenceAfter).toBeCloseTo(same.confidenceBefore, 6);
    expect(same.confidenceBefore).toBeCloseTo(c.confidence, 4);
    const off = await ok('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'node-off', node: 4, value: 'zero' }] });
    expect(off.image).not.toBe(same.image);
    expect(off.confidenceAfter).not.toBeCloseTo(off.confidenceBefore, 3);
    // the output node now shows flat grey (0)
    const four = off.nodes.find((n) => n.node === 4)!;
    expect(four.period).toBeNull();
  });

  it('saves genome ablations and lists them with a thumbnail and the change', async () => {
    const c = await champ(cppn);
    const saved = await ok('genome.save', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'node-off', node: 4, value: 'mean' }], note: 'output flat' });
    expect(saved.thumb).toMatch(/^data:image\/png;base64,/);
    expect(saved.edits).toEqual([{ op: 'node-off', node: 4, value: 'mean' }]);
    expect(await ok('genome.list', { runId: cppn, individualId: c.individualId })).toEqual([saved]);
  });

  it('reports the repetition of a champion and the edits that remove it', async () => {
    const champs = await ok('runs.champions', { runId: cppn });
    const reports = await Promise.all(champs.map((c) => ok('genome.repetition', { runId: cppn, individualId: c.individualId })));
    for (const r of reports) {
      expect(r.removal.knockout.length).toBe(r.elements.filter((e) => e.origin).length);
      for (const e of r.elements) expect(e.period).toBeGreaterThanOrEqual(2);
    }
  });

  it('refuses a direct-encoding individual and ids the genome does not have, with one clear message', async () => {
    const d = await champ(direct);
    const c = await champ(cppn);
    for (const m of ['genome.nodes', 'genome.repetition', 'genome.list'] as const) {
      const e = await fails(m, { runId: direct, individualId: d.individualId });
      expect(e.code).toBe('BAD_INPUT');
      expect(e.message).toMatch(/direct-encoding run: its images have no CPPN genome/);
    }
    expect((await fails('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'node-off', node: 999 }] })).message).toMatch(/no node 999.*Name a node of the genome/);
    expect((await fails('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'connection-off', from: 4, to: 0 }] })).message).toMatch(/no connection 4 -> 0/);
    expect((await fails('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'explode', node: 4 }] })).code).toBe('BAD_INPUT');
    expect((await fails('experiments.start', { kind: 'ablate', params: { runId: direct, genome: true } })).message).toMatch(/direct-encoding run/);
  });

  it('keep one copy and the random control of a motif: confidences, the filled images, reproducible by seed', async () => {
    const champs = await ok('runs.champions', { runId: cppn });
    let found = false;
    for (const c of champs) {
      const motifs = await ok('ablation.detect', { runId: cppn, individualId: c.individualId });
      const k = motifs.findIndex((m) => m.copies.length >= 2);
      if (k < 0) continue;
      found = true;
      const p = { runId: cppn, individualId: c.individualId, class: c.class, motif: k, draws: 4, seed: 7 };
      const a = await ok('ablation.copies', p);
      expect(a.keepOne.maskedPixels).toBeGreaterThan(0);
      expect(a.keepOne.image).toMatch(/^data:image\/png;base64,/);
      expect(a.control.confidences).toHaveLength(4);
      expect(a.control.mean).toBeCloseTo(a.control.confidences.reduce((s, v) => s + v, 0) / 4, 9);
      expect((await ok('ablation.copies', p)).control.confidences).toEqual(a.control.confidences);
      expect((await fails('ablation.copies', { ...p, motif: 99 })).message).toMatch(/motif 99 does not exist/);
      break;
    }
    expect(found, 'no champion of the run has a repeated motif').toBe(true);
  });

  it('fool ablate RUN --genome stores an experiment with the control; a direct run exits 2', async () => {
    const r = await foolJson<GenomeAblationResult & { experimentId: number }>(['ablate', String(cppn), '--genome', '--draws', '3', '--db', db]);
    expect(r.experimentId).toBeGreaterThan(0);
    expect(r.images.length).toBe((await ok('runs.champions', { runId: cppn })).length);
    expect(r.summary.champions).toBe(r.images.length);
    for (const i of r.images.filter((x) => x.after !== null)) expect(i.control.length).toBeLessThanOrEqual(3);
    // the same seed gives the same control
    const again = await foolJson<GenomeAblationResult & { experimentId: number }>(['ablate', String(cppn), '--genome', '--draws', '3', '--db', db]);
    expect(again.images.map((i) => i.control)).toEqual(r.images.map((i) => i.control));
    const list = await foolJson<{ experiments: { id: number; kind: string }[] }>(['experiments', 'list', '--db', db]);
    expect(list.experiments.find((e) => e.id === r.experimentId)?.kind).toBe('genome-ablation');
    const rep = await foolJson<{ files: string[] }>(['report', String(r.experimentId), '--out', join(dir, 'report'), '--db', db]);
    expect(rep.files).toContain('genome-ablation-drop.png');

    const bad = await fool(['ablate', String(direct), '--genome', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('fool:'))).toEqual([expect.stringMatching(/run \d+ is a direct-encoding run.*fool ablate \d+/)]);
  });

  it('over HTTP (fool serve): bad genome requests answer 400 with the message', async () => {
    const child = spawn(process.execPath, [FOOL, 'serve', '--port', '0', '--json', '--db', db], { env: { ...process.env, FOOL_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) done((JSON.parse(out.split('\n')[0]) as { url: string }).url);
        });
        child.on('exit', (code) => fail(new Error(`fool serve exited ${code}`)));
      });
      const post = (m: string, body: unknown) => fetch(`${url}api/call/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const d = await champ(direct);
      const c = await champ(cppn);
      const r1 = await post('genome.nodes', { runId: direct, individualId: d.individualId });
      expect(r1.status).toBe(400);
      expect(((await r1.json()) as { error: { message: string } }).error.message).toMatch(/direct-encoding run/);
      const r2 = await post('genome.apply', { runId: cppn, individualId: c.individualId, class: c.class, edits: [{ op: 'node-off', node: 12345 }] });
      expect(r2.status).toBe(400);
      expect(((await r2.json()) as { error: { message: string } }).error.message).toMatch(/no node 12345/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
