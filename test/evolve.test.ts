import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fool, foolJson, tempDir } from './helpers';

/** Evolution runs on the shipped LeNet: no ../shared needed. */
const MODEL = 'lenet-mnist';

interface Champion {
  class: number;
  label: string;
  confidence: number;
  generation: number;
  individualId: number;
}
interface EvolveResult {
  runId: number;
  model: string;
  encoding: string;
  generations: number;
  seconds: number;
  evaluationsPerSecond: number;
  champions: Champion[];
}

const evolve = (db: string, ...args: string[]) => foolJson<EvolveResult>(['evolve', '--model', MODEL, '--db', db, ...args]);

function lastGeneration(db: string, runId: number): number {
  if (!existsSync(db)) return -1;
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const r = d.prepare('SELECT last_generation AS g FROM runs WHERE id = ?').get(runId) as { g: number } | undefined;
    return r?.g ?? -1;
  } catch {
    return -1;
  } finally {
    d.close();
  }
}

describe('fool evolve on the shipped LeNet', () => {
  it('the same seed gives the same run; another seed another run', async () => {
    const dir = tempDir();
    const a = await evolve(join(dir, 'a.db'), '--encoding', 'cppn', '--generations', '6', '--seed', '3');
    const b = await evolve(join(dir, 'b.db'), '--encoding', 'cppn', '--generations', '6', '--seed', '3');
    const c = await evolve(join(dir, 'c.db'), '--encoding', 'cppn', '--generations', '6', '--seed', '4');
    expect(a).toMatchObject({ runId: 1, model: MODEL, encoding: 'cppn', generations: 6 });
    expect(a.champions).toHaveLength(10);
    expect(a.champions).toEqual(b.champions);
    expect(c.champions).not.toEqual(a.champions);
    for (const ch of a.champions) {
      expect(ch.confidence).toBeGreaterThan(0);
      expect(ch.confidence).toBeLessThanOrEqual(1);
      expect(ch.label).toBe(String(ch.class));
    }
  });

  it('keeps per-generation statistics and lineages that end at a random genome of generation 0', async () => {
    const db = join(tempDir(), 'lab.db');
    const r = await evolve(db, '--encoding', 'direct', '--generations', '12', '--seed', '2');
    const show = await foolJson<{ runId: number; settings: { encoding: string; direct: { mutationRate: number } }; stats: { generation: number; median: number; max: number; at99: number; at9999: number; evaluationsPerSecond: number }[] }>(['runs', 'show', String(r.runId), '--db', db]);
    expect(show.settings.encoding).toBe('direct');
    expect(show.settings.direct.mutationRate).toBe(0.1);
    expect(show.stats.map((s) => s.generation)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    // MAP-Elites never loses a champion: the max and the median never go down.
    for (let i = 1; i < show.stats.length; i++) {
      expect(show.stats[i].max).toBeGreaterThanOrEqual(show.stats[i - 1].max);
      expect(show.stats[i].median).toBeGreaterThanOrEqual(show.stats[i - 1].median);
    }
    for (const ch of r.champions) {
      const { chain } = await foolJson<{ chain: { individualId: number; generation: number; parentId: number | null; classesHeld: number[] }[] }>(['lineage', String(r.runId), '--class', String(ch.class), '--db', db]);
      expect(chain[0].generation).toBe(0);
      expect(chain[0].parentId).toBeNull();
      expect(chain.at(-1)!.individualId).toBe(ch.individualId);
      for (let i = 1; i < chain.length; i++) {
        expect(chain[i].parentId).toBe(chain[i - 1].individualId);
        expect(chain[i].generation).toBeGreaterThan(chain[i - 1].generation);
      }
    }
    const list = await foolJson<{ runs: { runId: number; status: string; generation: number }[] }>(['runs', 'list', '--db', db]);
    expect(list.runs).toEqual([expect.objectContaining({ runId: r.runId, status: 'finished', generation: 12 })]);
  });

  it('a run killed with SIGKILL mid-generation resumes to the same archive as an uninterrupted run', async () => {
    const dir = tempDir();
    const whole = await evolve(join(dir, 'whole.db'), '--encoding', 'cppn', '--generations', '30', '--seed', '11');
    const db = join(dir, 'killed.db');
    const child = spawn(process.execPath, [resolve(__dirname, '../bin/fool.js'), 'evolve', '--model', MODEL, '--encoding', 'cppn', '--generations', '30', '--seed', '11', '--db', db], { stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => child.on('exit', (code, signal) => done(signal ? -1 : code)));
    for (let i = 0; i < 600 && lastGeneration(db, 1) < 8; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);
    const committed = lastGeneration(db, 1);
    expect(committed).toBeGreaterThanOrEqual(8);
    expect(committed).toBeLessThan(30);
    const resumed = await foolJson<EvolveResult>(['resume', '1', '--db', db]);
    expect(resumed.generations).toBe(30);
    expect(resumed.champions).toEqual(whole.champions);
  });

  it('Ctrl-C stops after the current generation; resume finishes the run', async () => {
    const db = join(tempDir(), 'lab.db');
    const child = spawn(process.execPath, [resolve(__dirname, '../bin/fool.js'), 'evolve', '--model', MODEL, '--generations', '400', '--db', db, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    for (let i = 0; i < 600 && lastGeneration(db, 1) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stopped = JSON.parse(out) as EvolveResult & { status: string };
    expect(stopped.status).toBe('stopped');
    expect(stopped.generations).toBeLessThan(400);
    const resumed = await foolJson<EvolveResult & { status: string }>(['resume', '1', '--generations', String(stopped.generations + 2), '--db', db]);
    expect(resumed).toMatchObject({ status: 'finished', generations: stopped.generations + 2 });
  });

  it('exports PNGs, a contact sheet, index.html and manifest.json', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    const r = await evolve(db, '--generations', '3', '--seed', '1');
    const out = join(dir, 'gallery');
    const e = await foolJson<{ dir: string; files: string[]; champions: number }>(['export', String(r.runId), '--out', out, '--db', db]);
    expect(e.champions).toBe(10);
    for (const f of e.files) expect(existsSync(join(out, f)), f).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { champions: { class: number; file: string; confidence: number; lineage: { generation: number }[]; genome: { nodes: unknown[] } }[] };
    expect(manifest.champions.map((c) => c.class)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(manifest.champions[0].lineage[0].generation).toBe(0);
    expect(manifest.champions[0].genome.nodes.length).toBeGreaterThan(0);
    const meta = await sharp(join(out, manifest.champions[0].file)).metadata();
    expect([meta.width, meta.height]).toEqual([28, 28]);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(manifest.champions[3].file);
    // A folder that cannot be written: a clear error, the run untouched.
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, 'file'), 'x');
    chmodSync(locked, 0o500);
    const blocked = await fool(['export', String(r.runId), '--out', join(locked, 'file', 'sub'), '--db', db]);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/cannot write to/);
  });

  it('an export over an earlier export folder holds only the new export (plus what the user put there)', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    const r = await evolve(db, '--generations', '2', '--seed', '1');
    const out = join(dir, 'gallery');
    const all = await foolJson<{ files: string[] }>(['export', String(r.runId), '--out', out, '--db', db]);
    expect(all.files.filter((f) => f.startsWith('images/'))).toHaveLength(10);
    writeFileSync(join(out, 'my-notes.txt'), 'mine');
    const two = await foolJson<{ files: string[] }>(['export', String(r.runId), '--classes', '3,7', '--out', out, '--db', db]);
    const images = readdirSync(join(out, 'images')).map((f) => `images/${f}`).sort();
    expect(images).toEqual(two.files.filter((f) => f.startsWith('images/')).sort());
    expect(images).toHaveLength(2);
    expect(readFileSync(join(out, 'my-notes.txt'), 'utf8')).toBe('mine');
    // A run report written over the export: the export's images and manifest go, the report's files stay.
    const rep = await foolJson<{ files: string[] }>(['report', '--run', String(r.runId), '--out', out, '--db', db]);
    expect(existsSync(join(out, 'images'))).toBe(false);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    for (const f of rep.files) expect(existsSync(join(out, f)), f).toBe(true);
    // A link in the folder is the user's: never followed (their PNGs elsewhere stay), never removed.
    const mine = join(dir, 'my-pngs');
    mkdirSync(mine);
    writeFileSync(join(mine, 'holiday.png'), 'not really a png');
    symlinkSync(mine, join(out, 'images'));
    symlinkSync(join(mine, 'holiday.png'), join(out, 'linked.png'));
    const again = await fool(['report', '--run', String(r.runId), '--out', out, '--db', db]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(mine, 'holiday.png'), 'utf8')).toBe('not really a png');
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['images', 'linked.png']));
  });

  it('refuses bad input before any work, and never damages an existing database', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    await evolve(db, '--generations', '1');
    const before = readFileSync(db);
    const cases: [string[], RegExp][] = [
      [['evolve', '--model', 'no-such-model'], /no model named "no-such-model"/],
      [['evolve', '--model', MODEL, '--generations', '0'], /--generations must be a whole number from 1 to 1000000/],
      [['evolve', '--model', MODEL, '--batch', '0'], /--batch must be a whole number from 1 to 100000/],
      [['resume', '99'], /there is no run 99/],
      [['lineage', '1', '--class', '10'], /class 10 is out of range/],
      [['runs', 'show', '7'], /there is no run 7/],
      [['export', '5', '--out', join(dir, 'x')], /there is no run 5/],
      [['train', 'lenet', '--out', join(dir, 'never.onnx'), '--extra-class', '5'], /there is no run 5/],
    ];
    for (const [args, pattern] of cases) {
      const r = await fool([...args, '--db', db]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(db).equals(before)).toBe(true);
    const notSqlite = join(dir, 'notes.txt');
    writeFileSync(notSqlite, 'hello');
    const r = await fool(['evolve', '--model', MODEL, '--db', notSqlite]);
    expect(r.code).toBe(2);
    expect(readFileSync(notSqlite, 'utf8')).toBe('hello');
  });
});
