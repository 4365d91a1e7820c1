import { describe, expect, it } from 'vitest';
import { EvolutionSettingsSchema, type EvolutionSettings, type Genome } from '../src/shared/engine';
import { Archive, type ArchiveSnapshot } from '../src/main/core/engine/archive';
import { cppnFromJSON, cppnToJSON } from '../src/main/core/engine/cppn';
import { Renderer, renderOptions } from '../src/main/core/engine/render';
import { Scheduler } from '../src/main/core/engine/scheduler';

const ind = (id: number) => ({ individualId: id, parentId: null, generation: 0, genome: { encoding: 'direct', genes: new Float32Array([id]) } as Genome });

describe('archive', () => {
  it('replaces a champion only on strict improvement; one image may take several cells', () => {
    const a = new Archive(3);
    expect(a.insert(ind(1), [0.5, 0.2, 0.3])).toEqual([0, 1, 2]); // empty cells: all taken
    expect(a.insert(ind(2), [0.5, 0.6, 0.1])).toEqual([1]); // a tie (0.5) does not replace
    expect(a.get(0)!.individualId).toBe(1);
    expect(a.get(1)).toMatchObject({ individualId: 2, confidence: 0.6 });
    expect(a.insert(ind(3), [0.9, 0.9, 0.9])).toEqual([0, 1, 2]);
    // parent pool: once per held cell
    expect(a.occupied().map((e) => e.individualId)).toEqual([3, 3, 3]);
    expect(a.occupied()[0].genome).toBe(a.occupied()[2].genome); // shared, not copied
  });

  it('stats on a hand example (an empty cell counts as 0)', () => {
    const b = new Archive(5);
    b.insert(ind(1), [0.2, 0.99, 0.99995, 0.5, 0]);
    expect(b.stats()).toEqual({ median: 0.5, mean: (0.2 + 0.99 + 0.99995 + 0.5) / 5, max: 0.99995, min: 0, occupied: 5, at99: 2, at9999: 1 });
    const even = new Archive(4);
    expect(even.stats()).toMatchObject({ median: 0, mean: 0, occupied: 0 }); // all empty: all 0
    even.insert(ind(1), [0.1, 0.4, 0.2, 1]);
    expect(even.stats().median).toBeCloseTo(0.3, 12); // even count: mean of the middle two
  });

  it('snapshot and restore', () => {
    const a = new Archive(2);
    a.insert(ind(1), [0.3, 0.7]);
    const s = a.snapshot();
    a.insert(ind(2), [0.9, 0.9]);
    const b = Archive.restore(s);
    expect(b.occupied().map((e) => [e.individualId, e.confidence])).toEqual([[1, 0.3], [1, 0.7]]);
  });
});

/**
 * A stand-in classifier for testing selection only (NOT a model of anything): K logits from the
 * pixels, logit c = 12 * (mean brightness of pixels i with i % K == c) / 255, softmaxed. Some images
 * score high on a class, so evolution has something to climb.
 */
function fakeClassify(pixels: Uint8Array[], K: number): Float32Array {
  const out = new Float32Array(pixels.length * K);
  pixels.forEach((px, n) => {
    const sums = new Float64Array(K), counts = new Float64Array(K);
    for (let i = 0; i < px.length; i++) {
      sums[i % K] += px[i];
      counts[i % K]++;
    }
    const logits = Array.from(sums, (s, c) => (40 * s) / counts[c] / 255);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((x, y) => x + y, 0);
    e.forEach((v, c) => (out[n * K + c] = v / z));
  });
  return out;
}

const K = 10;
function settings(encoding: 'direct' | 'cppn', extra: object = {}): EvolutionSettings {
  return EvolutionSettingsSchema.parse({ encoding, width: 12, height: 12, channels: 1, initSize: 16, batchSize: 16, generations: 30, ...extra });
}

/** Runs generations until `until` (inclusive); records every candidate's parent. */
function run(s: Scheduler, until: number, parents: Map<number, number | null> = new Map()) {
  const r = new Renderer(renderOptions(s.settings));
  const log = [];
  while (s.generation <= until) {
    const batch = s.ask();
    for (const c of batch) parents.set(c.individualId, c.parentId);
    log.push(s.tell(fakeClassify(batch.map((c) => r.render(c.genome)), K)));
  }
  return { parents, log };
}

/** What a store would do: serialise the snapshot to plain data and back. */
function throughStore(snap: ArchiveSnapshot): ArchiveSnapshot {
  const json = JSON.stringify(snap, (_k, v: unknown) => (v instanceof Float32Array ? { f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v));
  const plain = JSON.parse(json) as { numClasses: number; cells: Array<(Record<string, unknown> & { genome: { encoding: string; genes?: { f32: string }; cppn?: unknown } }) | null> };
  return {
    numClasses: plain.numClasses,
    cells: plain.cells.map((c) => {
      if (c === null) return null;
      const b = c.genome.genes ? Buffer.from(c.genome.genes.f32, 'base64') : null;
      const genome: Genome = b
        ? { encoding: 'direct', genes: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) }
        : { encoding: 'cppn', cppn: cppnFromJSON(cppnToJSON(c.genome.cppn as never)) };
      return { ...(c as object), genome } as never;
    }),
  };
}

const fingerprint = (a: Archive) => a.occupied().map((e) => [e.individualId, e.parentId, e.confidence, e.genome.encoding === 'direct' ? [...e.genome.genes] : e.genome.cppn]);

describe.each([
  ['direct', {}],
  ['direct + sbx, fixed rate', { direct: { crossover: 'sbx', rateSchedule: 'fixed' } }],
  ['cppn', {}],
  ['cppn, colour, normalized', { channels: 3, colorSpace: 'hls', cppn: { coordinates: 'normalized' } }],
] as const)('scheduler (%s)', (name, extra) => {
  const enc = name.startsWith('cppn') ? 'cppn' : 'direct';

  it('the same seed gives the same run; another seed another', () => {
    const a = new Scheduler({ settings: settings(enc, extra), seed: 42, numClasses: K });
    const b = new Scheduler({ settings: settings(enc, extra), seed: 42, numClasses: K });
    const c = new Scheduler({ settings: settings(enc, extra), seed: 43, numClasses: K });
    const ra = run(a, 15), rb = run(b, 15);
    run(c, 15);
    expect(fingerprint(a.archive)).toEqual(fingerprint(b.archive));
    expect(ra.log).toEqual(rb.log);
    expect(fingerprint(c.archive)).not.toEqual(fingerprint(a.archive));
    // selection works against the stand-in: the median rises
    expect(ra.log.at(-1)!.stats.median).toBeGreaterThan(ra.log[0].stats.median);
  });

  it('a run killed mid-generation resumes from the last committed generation to the same archive', () => {
    const full = new Scheduler({ settings: settings(enc, extra), seed: 7, numClasses: K });
    run(full, 20);
    const first = new Scheduler({ settings: settings(enc, extra), seed: 7, numClasses: K });
    run(first, 8);
    const committed = throughStore(first.snapshot().archive);
    first.ask(); // generation 9 asked, then the process dies before tell()
    const resumed = new Scheduler({ settings: settings(enc, extra), seed: 7, numClasses: K, lastGeneration: 8, archive: committed });
    expect(resumed.generation).toBe(9);
    run(resumed, 20);
    expect(fingerprint(resumed.archive)).toEqual(fingerprint(full.archive));
    expect(resumed.done).toBe(false);
  });

  it("every champion's parent chain ends at generation 0", () => {
    const s = new Scheduler({ settings: settings(enc, extra), seed: 3, numClasses: K });
    const { parents } = run(s, 30);
    expect(s.done).toBe(true);
    for (const e of s.archive.occupied()) {
      let id = e.individualId;
      let steps = 0;
      while (parents.get(id) !== null) {
        const p = parents.get(id);
        expect(p).toBeDefined();
        expect(Math.floor(p! / 1e6)).toBeLessThan(Math.floor(id / 1e6)); // parents come from earlier generations
        id = p!;
        steps++;
      }
      expect(id).toBeLessThan(1e6); // generation 0
      expect(steps).toBeLessThanOrEqual(e.generation);
    }
  });
});

describe('scheduler protocol', () => {
  it('ask is idempotent until tell; tell checks its input', () => {
    const s = new Scheduler({ settings: settings('cppn'), seed: 1, numClasses: K });
    expect(() => s.tell(new Float32Array(16 * K))).toThrow(/without a pending ask/);
    const b = s.ask();
    expect(s.ask()).toBe(b);
    expect(b.map((c) => c.individualId)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(b.every((c) => c.parentId === null && c.generation === 0)).toBe(true);
    expect(() => s.tell(new Float32Array(3))).toThrow();
    s.tell(new Float32Array(16 * K).fill(0.1));
    const g1 = s.ask();
    expect(g1[0].individualId).toBe(1_000_000);
    expect(g1.every((c) => c.generation === 1 && c.parentId !== null && c.parentId < 16)).toBe(true);
  });

  it('askRange makes the very candidates ask() gives, piece by piece (the evolution renders the first while it makes the rest)', () => {
    for (const encoding of ['cppn', 'direct'] as const) {
      const whole = new Scheduler({ settings: settings(encoding), seed: 7, numClasses: K });
      const pieces = new Scheduler({ settings: settings(encoding), seed: 7, numClasses: K });
      for (let g = 0; g < 4; g++) {
        const n = pieces.batchSize;
        expect(n).toBe(g === 0 ? settings(encoding).initSize : settings(encoding).batchSize);
        const parts = [pieces.askRange(0, 5), pieces.askRange(5, 9), pieces.askRange(9, n)];
        // asked again: the same objects, not new draws
        expect(pieces.askRange(0, 5)[4]).toBe(parts[0][4]);
        const b = pieces.ask();
        expect(parts.flat()).toEqual(b);
        expect(b).toEqual(whole.ask());
        expect(() => pieces.tell(new Float32Array(3))).toThrow();
        const r = new Renderer(renderOptions(settings(encoding)));
        const probs = fakeClassify(b.map((c) => r.render(c.genome)), K);
        pieces.tell(probs);
        whole.tell(probs);
      }
      expect(fingerprint(pieces.archive)).toEqual(fingerprint(whole.archive));
    }
  });
});
