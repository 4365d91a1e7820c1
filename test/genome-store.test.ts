import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Lab } from '../src/main/core/lab';
import { EvolutionRun } from '../src/main/core/evolution/run';
import { applyDelta, encodeDelta, MAX_DELTA_DEPTH } from '../src/main/core/store/genome-delta';
import { openDb, SCHEMA_VERSION } from '../src/main/core/store/db';
import { MIGRATIONS } from '../src/main/core/store/migrations';
import { foolJson, rng, tempDir } from './helpers';

const bytes = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

describe('direct genomes stored as deltas against the parent', () => {
  it('a delta is bit-exact, and refused when it would not halve the size', () => {
    const r = rng(5);
    const parent = Float32Array.from({ length: 784 }, () => r());
    const child = new Float32Array(parent);
    for (let i = 0; i < 784; i += 10) child[i] = r();
    child[3] = -0; // bit patterns, not values: -0 and 0 differ
    const d = encodeDelta(bytes(child), bytes(parent))!;
    expect(d.byteLength).toBe(4 + 8 * 80);
    expect(Buffer.from(applyDelta(bytes(parent), d)).equals(Buffer.from(bytes(child)))).toBe(true);
    // Crossover-like children (most genes changed) and mismatched lengths stay whole.
    expect(encodeDelta(bytes(Float32Array.from({ length: 784 }, () => r())), bytes(parent))).toBeNull();
    expect(encodeDelta(bytes(child.subarray(0, 100)), bytes(parent))).toBeNull();
    expect(() => applyDelta(bytes(parent.subarray(0, 10)), d)).toThrow(/corrupt genome delta/);
  });

  it('a direct run stores most winners as deltas, reads back the genomes it evolved, and resumes exactly', async () => {
    const dir = tempDir();
    const lab = new Lab(join(dir, 'lab.db'));
    let runId: number;
    let confidences: Map<number, number>;
    try {
      const evo = EvolutionRun.create(lab, { model: 'lenet-mnist', encoding: 'direct', generations: 40, batch: 40, seed: 3 });
      // Stop half-way, then resume: the resumed half's parents come back from the deltas.
      const ac = new AbortController();
      await evo.run({ signal: ac.signal, onGeneration: (r) => r.generation === 20 && ac.abort() });
      await EvolutionRun.resume(lab, evo.runId).run();
      const reference = EvolutionRun.create(lab, { model: 'lenet-mnist', encoding: 'direct', generations: 40, batch: 40, seed: 3 });
      await reference.run();

      const rows = lab.db.prepare('SELECT id, parent_id AS parent, genome_base AS base, genome_depth AS depth, length(genome) AS size FROM individuals WHERE run_id = ?').all(evo.runId) as {
        id: number;
        parent: number | null;
        base: number | null;
        depth: number;
        size: number;
      }[];
      const deltas = rows.filter((x) => x.base !== null);
      expect(deltas.length).toBeGreaterThan(rows.length / 2);
      for (const x of deltas) {
        expect(x.base).toBe(x.parent);
        expect(x.depth).toBeGreaterThanOrEqual(1);
        expect(x.depth).toBeLessThanOrEqual(MAX_DELTA_DEPTH);
        expect(x.size).toBeLessThan((784 * 4) / 2);
      }
      // Every genome reads back whole; a delta child differs from its parent in a few genes (rate 0.1).
      for (const x of deltas.slice(0, 50)) {
        const child = new Float32Array(lab.runs.individual(evo.runId, x.id).genome.slice().buffer);
        const parent = new Float32Array(lab.runs.individual(evo.runId, x.parent!).genome.slice().buffer);
        expect(child.length).toBe(784);
        const changed = child.filter((v, i) => v !== parent[i]).length;
        expect(changed).toBeGreaterThan(0);
        expect(changed).toBeLessThan(200);
      }
      // Stopped + resumed (through stored deltas) = uninterrupted: same champions, same genomes.
      const a = lab.runs.championIndividuals(evo.runId);
      const b = lab.runs.championIndividuals(reference.runId);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [id, ind] of a) expect(Buffer.from(ind.genome).equals(Buffer.from(b.get(id)!.genome))).toBe(true);
      expect(lab.runs.champions(evo.runId).map((c) => c.confidence)).toEqual(lab.runs.champions(reference.runId).map((c) => c.confidence));
      runId = evo.runId;
      confidences = new Map(lab.runs.champions(evo.runId).map((c) => [c.class, c.confidence]));
    } finally {
      lab.close();
    }
    // The champions, rebuilt from deltas and classified again, keep their stored confidences.
    const t = await foolJson<{ images: { confidence: Record<string, number>; class: number }[] }>(['transfer', '--runs', String(runId), '--models', 'lenet-mnist', '--db', join(dir, 'lab.db')]);
    expect(t.images).toHaveLength(10);
    for (const im of t.images) expect(im.confidence['lenet-mnist']).toBeCloseTo(confidences.get(im.class)!, 6);
  });

  it('a database from before deltas (schema 4) is migrated and its genomes read as before', () => {
    const path = join(tempDir(), 'old.db');
    const raw = new Database(path);
    for (const m of MIGRATIONS.slice(0, 4)) raw.exec(m);
    raw.pragma('user_version = 4');
    raw.prepare("INSERT INTO runs (id, kind, model, encoding, seed, settings, labels, classes) VALUES (1, 'evolution', 'lenet-mnist', 'direct', 1, '{}', '[]', 10)").run();
    const genes = Float32Array.from({ length: 784 }, (_, i) => i / 784);
    raw.prepare("INSERT INTO individuals (run_id, id, parent_id, generation, genome, won, top) VALUES (1, 7, NULL, 0, ?, '[]', '[]')").run(Buffer.from(bytes(genes)));
    raw.close();
    const db = openDb(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    const lab = new Lab(path);
    try {
      const g = lab.runs.individual(1, 7).genome;
      expect(Buffer.from(g).equals(Buffer.from(bytes(genes)))).toBe(true);
    } finally {
      lab.close();
    }
  });
});
