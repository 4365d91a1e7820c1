import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { labRuns } from '../src/main/core/labs/import';
import { formatConfidence } from '../src/shared/confidence';
import { fool, foolJson, HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';

/**
 * What the command line prints for people says what its --json says: confidences written the lab's
 * one way (never rounded up to a threshold or to "100.00%"), counts and suggested commands true.
 * Small runs of the shipped LeNet.
 */

const dir = tempDir();
const db = join(dir, 'lab.db');

describe('the text output tells the truth', () => {
  beforeAll(async () => {
    const r = await fool(['evolve', '--model', 'lenet-mnist', '--encoding', 'cppn', '--generations', '30', '--batch', '50', '--workers', '1', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a sweep's merged archive writes each champion's confidence as formatConfidence does", async () => {
    const r = await foolJson<{ sweepId: number; archive: { label: string; confidence: number; runId: number }[] }>(
      ['sweep', '--models', 'lenet-mnist', '--encodings', 'cppn', '--seeds', '1', '--generations', '30', '--batch', '50', '--workers', '1', '--dir', join(dir, 'sweep'), '--db', db],
    );
    expect(r.archive).toHaveLength(10);
    const shown = await fool(['sweep', '--show', String(r.sweepId), '--db', db]);
    expect(shown.code, shown.stderr).toBe(0);
    const line = shown.stdout.split('\n').find((l) => l.startsWith('Merged archive'));
    expect(line).toBe(`Merged archive (best over the sweep): ${r.archive.map((c) => `${c.label} ${formatConfidence(c.confidence)} (run ${c.runId})`).join(', ')}`);
  });

  it("the genome ablation's per-champion table writes confidences as formatConfidence does", async () => {
    const r = await foolJson<{ images: { class: number; before: number; after: number | null }[] }>(['ablate', '1', '--genome', '--draws', '1', '--db', db]);
    const text = await fool(['ablate', '1', '--genome', '--draws', '1', '--images', '--db', db]);
    expect(text.code, text.stderr).toBe(0);
    for (const im of r.images) {
      const row = text.stdout.split('\n').find((l) => new RegExp(`^${im.class}\\s{2,}${im.class}\\s{2,}`).test(l));
      expect(row, `class ${im.class}`).toBeDefined();
      expect(row).toContain(` ${formatConfidence(im.before)} `);
      if (im.after !== null) expect(row).toContain(` ${formatConfidence(im.after)} `);
    }
  });
});

describe('a run stopped before its first generation was committed', () => {
  it('reads "-" in runs list and "no generation committed yet" in runs show, not generation -1', async () => {
    const d = tempDir();
    const lab = join(d, 'lab.db');
    // A run stopped during generation 0 (as a failed classifier start leaves it): made and released as the core does.
    const { openLabApi } = await import('../src/main/core/api');
    const api = openLabApi(lab);
    const id = api.lab.runs.create({ kind: 'evolution', model: 'lenet-mnist', encoding: 'cppn', seed: 1, settings: { encoding: 'cppn', generations: 5 }, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    api.lab.runs.release(id, 'stopped');
    await api.close();
    const list = await fool(['runs', 'list', '--db', lab]);
    expect(list.code, list.stderr).toBe(0);
    const row = list.stdout.split('\n')[1].trim().split(/\s{2,}/);
    expect(row.slice(0, 7)).toEqual(['1', 'evolution', 'lenet-mnist', 'cppn', '1', 'stopped', '-/5']);
    const show = await fool(['runs', 'show', '1', '--db', lab]);
    expect(show.stdout.split('\n')[0]).toBe('Run 1: evolution cppn on lenet-mnist, seed 1, stopped, no generation committed yet, 0 evaluations in 0.0 s');
  });
});

describe.skipIf(!HAS_SHARED)(`lineage of an ImageNet run${HAS_SHARED ? '' : ` (skipped: ${SKIP_SHARED_REASON})`}`, () => {
  it('names the classes each ancestor won by index and first name, not as whole comma-joined labels', async () => {
    const d = tempDir();
    const lab = join(d, 'lab.db');
    expect((await fool(['models', 'add', MODELS.squeezenet, '--name', 'sq', '--preset', 'caffe-imagenet', '--no-check', '--db', lab])).code).toBe(0);
    const r = await foolJson<{ runId: number; champions: { class: number }[] }>(['evolve', '--model', 'sq', '--generations', '1', '--batch', '20', '--db', lab]);
    const j = await foolJson<{ chain: { classesHeld: number[] }[] }>(['lineage', String(r.runId), '--class', String(r.champions[0].class), '--db', lab]);
    const text = await fool(['lineage', String(r.runId), '--class', String(r.champions[0].class), '--db', lab]);
    const rows = text.stdout.split('\n').slice(2).filter(Boolean);
    expect(rows).toHaveLength(j.chain.length);
    rows.forEach((row, i) => {
      const held = j.chain[i].classesHeld;
      const won = row.trim().split(/\s{2,}/)[3];
      // Every class named once, by its index: "3 great white shark, 5 hammerhead (+28 more)".
      const named = [...won.matchAll(/(?:^|, )(\d+) [^,(]+/g)].map((m) => Number(m[1]));
      expect(named).toEqual(held.slice(0, 6));
      if (held.length > 6) expect(won).toMatch(new RegExp(`\\(\\+${held.length - 6} more\\)$`));
    });
  });
});

describe('a run whose model was removed', () => {
  it('is refused by resume, transfer and ablate with what happened and the fix; export still works', async () => {
    const d = tempDir();
    const lab = join(d, 'lab.db');
    const lenet = resolve(__dirname, '../resources/models/lenet-mnist.onnx');
    expect((await fool(['models', 'add', lenet, '--name', 'gone', '--preset', 'mnist', '--no-check', '--db', lab])).code).toBe(0);
    expect((await fool(['evolve', '--model', 'gone', '--generations', '2', '--batch', '20', '--workers', '1', '--db', lab])).code).toBe(0);
    const removed = await fool(['models', 'remove', 'gone', '--db', lab]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe('Removed gone\nRun 1 was made with it: kept, shown and exported as before, but resumed, transferred or ablated only once a model named gone is added again.\n');
    for (const args of [['resume', '1', '--generations', '4'], ['transfer', '--runs', '1', '--models', 'lenet-mnist'], ['ablate', '1']]) {
      const r = await fool([...args, '--db', lab]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/run 1 was made with the model "gone", which is no longer in this lab \(removed\?\)\. Add it again under that name \(fool models add FILE\.onnx --name gone/);
    }
    expect((await fool(['export', '1', '--out', join(d, 'export'), '--db', lab])).code).toBe(0);
  });
});

describe('reproduce stopped with Ctrl-C', () => {
  it('names the unfinished run, and the resume it suggests finishes that run', async () => {
    const d = tempDir();
    const lab = join(d, 'lab.db');
    const child = spawn(process.execPath, [resolve(__dirname, '../bin/fool.js'), 'reproduce', '--seeds', '1', '--encodings', 'direct', '--generations', '3000', '--checkpoint', '5', '--batch', '20', '--workers', '1', '--db', lab], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const at = () => (existsSync(lab) ? Math.max(-1, ...(labRuns(lab) ?? []).map((x) => x.lastGeneration)) : -1);
    for (let i = 0; i < 1200 && at() < 3; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const m = /the unfinished run (\d+) is kept: fool resume (\d+) finishes it/.exec(out);
    expect(m, out).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    const r = await foolJson<{ runId: number; status: string; generations: number }>(['resume', m![2], '--generations', '3001', '--db', lab]);
    expect(r).toMatchObject({ runId: Number(m![1]), status: 'finished', generations: 3001 });
  });
});
