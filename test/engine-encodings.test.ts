import { describe, expect, it } from 'vitest';
import { defaultSettings, ENCODINGS, type Genome } from '../src/shared/engine';
import type { Elite } from '../src/main/core/engine/archive';
import { ENCODING_TABLE, encodingOf } from '../src/main/core/engine/encodings';
import { Renderer, renderOptions } from '../src/main/core/engine/render';
import { Rng } from '../src/main/core/engine/rng';

/**
 * The contract every entry of the encoding table keeps (engine/encoding.ts). A new encoding added to
 * the table is checked here without a line of test written for it.
 */

const snapshot = (g: Genome) => JSON.stringify(g, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));

describe('the encoding table', () => {
  it('holds every encoding the API offers, under its own name, and refuses an unknown one clearly', () => {
    expect(Object.keys(ENCODING_TABLE).sort()).toEqual([...ENCODINGS].sort());
    for (const name of ENCODINGS) expect(encodingOf(name).name).toBe(name);
    expect(() => encodingOf('pixels')).toThrow(/unknown genome encoding "pixels".*Known encodings: direct, cppn/s);
    expect(() => encodingOf('toString')).toThrow(/unknown genome encoding/);
  });

  for (const name of ENCODINGS) {
    describe(name, () => {
      const enc = encodingOf(name);
      for (const task of ['mnist', 'imagenet'] as const) {
        const settings = { ...defaultSettings(task, name), initSize: 8, batchSize: 8 };

        it(`${task}: random genomes are the seed's, and its settings parse with its own schema`, () => {
          expect(enc.settingsSchema.parse(settings)).toEqual(settings);
          const a = enc.random(settings, Rng.of(9, 0, 1));
          expect(a.encoding).toBe(name);
          expect(snapshot(enc.random(settings, Rng.of(9, 0, 1)))).toBe(snapshot(a));
          expect(snapshot(enc.random(settings, Rng.of(9, 0, 2)))).not.toBe(snapshot(a));
        });

        it(`${task}: stored bytes decode to the same genome, bit for bit, from any offset`, () => {
          const g = enc.random(settings, Rng.of(4, 0, 0));
          const bytes = enc.encode(g);
          const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1); // SQLite blobs sit anywhere
          shifted.set(bytes);
          const back = enc.decode(shifted);
          expect(Buffer.from(enc.encode(back)).equals(Buffer.from(bytes))).toBe(true);
          expect(snapshot(back)).toBe(snapshot(g));
          expect(JSON.parse(JSON.stringify(enc.exportJson(back)))).toEqual(enc.exportJson(g));
        });

        it(`${task}: a child is the seed's, leaves its parent untouched, and renders to the image size`, () => {
          const parents: Elite[] = [0, 1, 2].map((i) => ({ individualId: i, parentId: null, generation: 0, confidence: 0.5, genome: enc.random(settings, Rng.of(1, 0, i)) }));
          const before = parents.map((p) => snapshot(p.genome));
          const child = enc.vary(parents[0], parents, settings, 5, Rng.of(1, 5, 0));
          expect(snapshot(enc.vary(parents[0], parents, settings, 5, Rng.of(1, 5, 0)).genome)).toBe(snapshot(child.genome));
          expect(snapshot(child.genome)).not.toBe(before[0]);
          expect(parents.map((p) => snapshot(p.genome))).toEqual(before);
          const r = new Renderer(renderOptions(settings));
          const img = r.render(child.genome);
          expect(img).toHaveLength(settings.width * settings.height * settings.channels);
          expect([...r.render(child.genome)]).toEqual([...img]); // scratch reuse is harmless
        });

        it(`${task}: refuses a genome of another encoding`, () => {
          const otherName = ENCODINGS.find((e) => e !== name)!;
          const other = encodingOf(otherName).random({ ...defaultSettings(task, otherName), initSize: 8, batchSize: 8 }, Rng.of(1, 0, 0));
          expect(() => enc.encode(other)).toThrow(/mixed encodings/);
          expect(() => enc.renderer(renderOptions(settings))(other)).toThrow(/mixed encodings/);
        });
      }

      it('describes a genome for the app', () => {
        const settings = defaultSettings('mnist', name);
        const view = enc.describe(enc.random(settings, Rng.of(2, 0, 0)), settings);
        expect(Object.keys(view)).toEqual(['cppn']);
        if (name === 'cppn') expect(view.cppn!.nodes.filter((n) => n.kind === 'output').map((n) => n.label)).toEqual(['grey']);
        else expect(view.cppn).toBeNull();
      });
    });
  }
});
