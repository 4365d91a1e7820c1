import { describe, expect, it } from 'vitest';
import { CppnSettingsSchema, defaultSettings, type CppnGenome, type CppnSettings } from '../src/shared/engine';
import { mutateCppn, randomCppn } from '../src/main/core/engine/cppn';
import { CppnRenderer } from '../src/main/core/engine/cppn-render';
import { CppnReferenceRenderer } from '../src/main/core/engine/cppn-render-reference';
import type { RenderOptions } from '../src/main/core/engine/encoding';
import { Renderer, renderOptions } from '../src/main/core/engine/render';
import { Rng } from '../src/main/core/engine/rng';
import { Scheduler } from '../src/main/core/engine/scheduler';

/**
 * The fast CPPN renderer must give the reference renderer's bytes for every genome: stored runs are
 * resumed and re-rendered, and the same seed must give the same run as before the change. Compared
 * over random genomes, long chains of mutations, genomes evolved by MAP-Elites and hand-made edge
 * cases, at the sizes the lab renders (MNIST 28, 64, SqueezeNet/AlexNet 227, the paper's 256),
 * grey and colour (HSV and HLS), both coordinate systems.
 */

const params = CppnSettingsSchema.parse({ encoding: 'cppn', width: 28, height: 28, channels: 1, initSize: 1, batchSize: 1, generations: 1 }).cppn;

/** Random genomes and mutation chains of 0..maxSteps steps (networks of every size up to ~100 nodes). */
function mutated(outputs: 1 | 3, count: number, maxSteps: number, seed: number): CppnGenome[] {
  const out: CppnGenome[] = [];
  for (let i = 0; i < count; i++) {
    const rng = Rng.of(seed, outputs, i);
    let g = randomCppn(outputs, rng);
    const steps = i === 0 ? 0 : rng.below(maxSteps + 1);
    for (let s = 0; s < steps; s++) g = mutateCppn(g, params, rng).genome;
    out.push(g);
  }
  return out;
}

/**
 * Genomes as a run evolves them: MAP-Elites with the reference renderer and a cheap stand-in for a
 * classifier (ten "classes" = the brightness of ten bands of the image), so selection shapes the
 * networks as in a real run (hidden nodes fed by one input, shared subnetworks, dead ends).
 */
function evolved(settings: CppnSettings, generations: number): CppnGenome[] {
  const s = { ...settings, generations, initSize: 20, batchSize: 20 };
  const scheduler = new Scheduler({ settings: s, seed: 5, numClasses: 10 });
  const reference = new CppnReferenceRenderer(renderOptions(s));
  const out: CppnGenome[] = [];
  while (!scheduler.done) {
    const batch = scheduler.ask();
    const probs = new Float32Array(batch.length * 10);
    batch.forEach((c, i) => {
      if (c.genome.encoding !== 'cppn') throw new Error('cppn expected');
      out.push(c.genome.cppn);
      const px = reference.renderCppn(c.genome.cppn);
      const band = Math.ceil(px.length / 10);
      let sum = 0;
      for (let k = 0; k < 10; k++) {
        let v = 1;
        for (let j = k * band; j < Math.min(px.length, (k + 1) * band); j++) v += px[j];
        probs[i * 10 + k] = v;
        sum += v;
      }
      for (let k = 0; k < 10; k++) probs[i * 10 + k] /= sum;
    });
    scheduler.tell(probs);
  }
  return out;
}

/** Networks that exercise the corners: no connections, bias only, unused and dangling nodes, shared subnetworks. */
function edgeCases(outputs: 1 | 3): CppnGenome[] {
  const outs = Array.from({ length: outputs }, (_, k) => ({ id: 4 + k, kind: 'output' as const, activation: (['sine', 'sigmoid', 'gaussian'] as const)[k] }));
  const h = 4 + outputs;
  const link = (from: number, to: number, gene: number) => ({ from, to, gene });
  const toAll = (from: number, gene: number) => outs.map((o) => link(from, o.id, gene));
  return [
    { nodes: outs, connections: [], nextNodeId: h },
    { nodes: outs, connections: toAll(3, 0.8), nextNodeId: h },
    { nodes: outs, connections: toAll(3, 0.5), nextNodeId: h }, // weight 0: bias 0
    // a hidden node on x alone, one on y alone, one on d alone, summed with the bias last
    {
      nodes: [...outs, { id: h, kind: 'hidden', activation: 'sine' }, { id: h + 1, kind: 'hidden', activation: 'gaussian' }, { id: h + 2, kind: 'hidden', activation: 'linear' }],
      connections: [link(0, h, 0.61), link(1, h + 1, 0.33), link(2, h + 2, 0.97), ...toAll(h, 0.7), ...toAll(3, 0.1), ...toAll(h + 1, 0.2), ...toAll(h + 2, 0.9)],
      nextNodeId: h + 3,
    },
    // a chain of hidden nodes fed by the bias only (a constant), then mixed with x and d; a dangling node
    {
      nodes: [...outs, { id: h, kind: 'hidden', activation: 'sigmoid' }, { id: h + 1, kind: 'hidden', activation: 'linear' }, { id: h + 2, kind: 'hidden', activation: 'sine' }],
      connections: [link(3, h, 0.9), link(h, h + 1, 0.2), link(0, h + 2, 0.4), link(h + 1, h + 2, 0.8), link(2, h + 2, 0.3), ...toAll(h + 2, 0.75), ...toAll(h, 0.05)],
      nextNodeId: h + 3,
    },
    // the same subnetwork read by every output and by another hidden node, inputs listed after hidden sources
    {
      nodes: [...outs, { id: h, kind: 'hidden', activation: 'gaussian' }, { id: h + 1, kind: 'hidden', activation: 'sine' }],
      connections: [link(1, h, 0.3), link(2, h, 0.6), link(h, h + 1, 0.95), link(0, h + 1, 0.52), ...toAll(h + 1, 0.66), ...toAll(h, 0.12), ...toAll(1, 0.9), ...toAll(3, 0.85)],
      nextNodeId: h + 2,
    },
  ];
}

function opts(width: number, height: number, channels: 1 | 3, colorSpace: 'hsv' | 'hls', coordinates: 'pixel' | 'normalized'): RenderOptions {
  return { width, height, channels, colorSpace, coordinates, weightMin: -10, weightMax: 10 };
}

const bytesOf = (a: Uint8Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Index of the first genome whose image differs, or -1. With `values`, every node's value at every
 * pixel is compared bit for bit too: the bytes (int(|v| * 255)) would hide a difference in the last
 * bit most of the time, and over the millions of pixels of a run one would show.
 */
function firstDifference(o: RenderOptions, genomes: CppnGenome[], values = false): number {
  const fast = new CppnRenderer(o);
  const reference = new CppnReferenceRenderer(o);
  const out = new Uint8Array(o.width * o.height * o.channels);
  for (let i = 0; i < genomes.length; i++) {
    const want = new Map<number, Float64Array>();
    const image = reference.renderCppn(genomes[i], undefined, values ? { onPlane: (id, v) => want.set(id, Float64Array.from(v)) } : undefined);
    // into a reused buffer holding the previous image, as the render workers do
    if (!bytesOf(fast.renderCppn(genomes[i], out)).equals(bytesOf(image))) return i;
    if (!bytesOf(fast.renderCppn(genomes[i])).equals(bytesOf(image))) return i;
    if (values) {
      const got = fast.nodeValues(genomes[i]);
      if (got.size !== want.size) return i;
      for (const [id, v] of want) if (!got.has(id) || !bytesOf(got.get(id)!).equals(bytesOf(v))) return i;
    }
  }
  return -1;
}

describe('the fast CPPN renderer gives the reference bytes', () => {
  const grey = [...mutated(1, 300, 400, 1), ...edgeCases(1)];
  const colour = [...mutated(3, 300, 400, 2), ...edgeCases(3)];

  it('MNIST size (28x28, grey and colour, both coordinate systems)', () => {
    for (const coordinates of ['pixel', 'normalized'] as const) {
      expect(firstDifference(opts(28, 28, 1, 'hsv', coordinates), grey, true)).toBe(-1);
      expect(firstDifference(opts(28, 28, 3, 'hsv', coordinates), colour, true)).toBe(-1);
      expect(firstDifference(opts(28, 28, 3, 'hls', coordinates), colour)).toBe(-1);
    }
  });

  it('genomes evolved by MAP-Elites (MNIST settings, 28x28 grey; ImageNet settings at 64x64 colour)', () => {
    const mnist = defaultSettings('mnist', 'cppn');
    const g1 = evolved(mnist, 60);
    expect(g1.length).toBe(61 * 20);
    expect(Math.max(...g1.map((g) => g.nodes.length))).toBeGreaterThan(5);
    expect(firstDifference(renderOptions(mnist), g1, true)).toBe(-1);
    const imagenet = { ...defaultSettings('imagenet', 'cppn'), width: 64, height: 64 };
    const g3 = evolved(imagenet, 25);
    expect(firstDifference(renderOptions(imagenet), g3, true)).toBe(-1);
    expect(firstDifference({ ...renderOptions(imagenet), colorSpace: 'hls', coordinates: 'normalized' }, g3)).toBe(-1);
  });

  it('64, 227 and 256 pixels square, grey and colour', () => {
    for (const size of [64, 227, 256]) {
      const count = size === 64 ? 120 : 12;
      for (const coordinates of ['pixel', 'normalized'] as const) {
        expect(firstDifference(opts(size, size, 1, 'hsv', coordinates), grey.slice(-count), size === 64)).toBe(-1);
        expect(firstDifference(opts(size, size, 3, coordinates === 'pixel' ? 'hsv' : 'hls', coordinates), colour.slice(-count))).toBe(-1);
      }
    }
  });

  it('odd shapes: not square, one row, one pixel', () => {
    for (const [w, h] of [[30, 17], [17, 1], [1, 9], [1, 1]]) {
      for (const coordinates of ['pixel', 'normalized'] as const) {
        expect(firstDifference(opts(w, h, 1, 'hsv', coordinates), grey.slice(0, 60), true)).toBe(-1);
        expect(firstDifference(opts(w, h, 3, 'hls', coordinates), colour.slice(0, 60))).toBe(-1);
      }
    }
  });

  it('is what the lab renders with (the engine Renderer), and probes still see every node', () => {
    const o = opts(28, 28, 1, 'hsv', 'pixel');
    const r = new Renderer(o);
    const reference = new CppnReferenceRenderer(o);
    for (const g of grey.slice(0, 50)) expect(Buffer.from(r.render({ encoding: 'cppn', cppn: g })).equals(Buffer.from(reference.renderCppn(g)))).toBe(true);
    const g = grey[grey.length - 3]; // hidden nodes on x, y and d alone
    const planes = new Map<number, number>();
    r.renderCppn(g, undefined, { all: true, onPlane: (id, values) => planes.set(id, values.length) });
    expect([...planes.keys()].sort((a, b) => a - b)).toEqual(g.nodes.map((n) => n.id).sort((a, b) => a - b));
    expect(new Set(planes.values())).toEqual(new Set([28 * 28]));
  });

  it('refuses what the reference refuses', () => {
    const r = new CppnRenderer(opts(8, 8, 1, 'hsv', 'pixel'));
    expect(() => r.renderCppn(colour[0])).toThrow(/3 outputs, image 1 channels/);
    expect(() => r.renderCppn(grey[0], new Uint8Array(10))).toThrow(/output has 10 bytes, expected 64/);
    const cycle: CppnGenome = {
      nodes: [{ id: 4, kind: 'output', activation: 'sine' }, { id: 5, kind: 'hidden', activation: 'sine' }, { id: 6, kind: 'hidden', activation: 'sine' }],
      connections: [{ from: 5, to: 4, gene: 0.5 }, { from: 6, to: 5, gene: 0.5 }, { from: 5, to: 6, gene: 0.5 }],
      nextNodeId: 7,
    };
    expect(() => r.renderCppn(cycle)).toThrow(/cycle/);
  });
});

describe('packing a batch for the render workers', () => {
  it('round-trips genomes exactly (ids, kinds, activations, genes to the last bit)', async () => {
    const { cppnEncoding } = await import('../src/main/core/engine/encodings/cppn');
    const genomes = [...mutated(1, 40, 300, 9), ...mutated(3, 40, 300, 10), ...edgeCases(3)].map((cppn) => ({ encoding: 'cppn' as const, cppn }));
    const packed = cppnEncoding.pack!(genomes);
    expect(cppnEncoding.unpack!(packed)).toEqual(genomes);
    expect(cppnEncoding.unpack!(cppnEncoding.pack!([]))).toEqual([]);
  });
});
