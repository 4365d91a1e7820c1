import { describe, expect, it } from 'vitest';
import { defaultSettings, EvolutionSettingsSchema, type CppnGenome } from '../src/shared/engine';
import { hlsToRgb, hsvToRgb } from '../src/main/core/engine/color';
import { candidateConnections, cppnFromJSON, cppnToJSON, mutateCppn, randomCppn, validateCppn } from '../src/main/core/engine/cppn';
import { directMutationRate, mutateDirectInPlace, polynomialMutate, renderDirect, sbx } from '../src/main/core/engine/direct';
import { Renderer } from '../src/main/core/engine/render';
import { Rng } from '../src/main/core/engine/rng';

describe('settings', () => {
  it('defaultSettings gives paper-spec section 2', () => {
    const t = (task: 'mnist' | 'imagenet', enc: 'direct' | 'cppn') => {
      const s = defaultSettings(task, enc);
      return [s.initSize, s.batchSize, s.generations, s.width, s.height, s.channels];
    };
    expect(t('mnist', 'cppn')).toEqual([200, 200, 200, 28, 28, 1]);
    expect(t('mnist', 'direct')).toEqual([200, 200, 200, 28, 28, 1]);
    expect(t('imagenet', 'cppn')).toEqual([400, 400, 5000, 256, 256, 3]);
    expect(t('imagenet', 'direct')).toEqual([200, 200, 20000, 256, 256, 3]);
    const d = defaultSettings('imagenet', 'direct');
    expect(d.colorSpace).toBe('hsv');
    expect(d.direct).toEqual({ mutationRate: 0.1, rateSchedule: 'halve-every-1000', eta: 15, crossover: 'none', sbxRate: 0.5, sbxEta: 10 });
    const c = defaultSettings('mnist', 'cppn');
    expect(c.cppn).toMatchObject({ coordinates: 'pixel', weightMutationRate: 0.1, activationMutationRate: 0.1, addConnection: 0.5, deleteConnection: 0.3, addNode: 0.5, deleteNode: 0.2, weightMin: -10, weightMax: 10 });
  });

  it('the schema fills defaults and rejects nonsense', () => {
    const s = EvolutionSettingsSchema.parse({ encoding: 'direct', width: 28, height: 28, channels: 1, initSize: 5, batchSize: 5, generations: 3, direct: { crossover: 'sbx' } });
    expect(s.encoding === 'direct' && s.direct.crossover === 'sbx' && s.direct.eta === 15).toBe(true);
    expect(() => EvolutionSettingsSchema.parse({ ...s, channels: 2 })).toThrow();
    expect(() => EvolutionSettingsSchema.parse({ ...s, encoding: 'cppn', cppn: { addNode: 1.5 } })).toThrow();
  });
});

describe('rng', () => {
  it('is a pure function of its keys', () => {
    const seq = (...k: number[]) => {
      const r = Rng.of(...k);
      return Array.from({ length: 5 }, () => r.float());
    };
    expect(seq(1, 2, 3)).toEqual(seq(1, 2, 3));
    expect(seq(1, 2, 3)).not.toEqual(seq(1, 2, 4));
    expect(seq(2 ** 40 + 1, 0)).not.toEqual(seq(1, 0));
  });
  it('gives floats in [0,1), ints in range and standard normals', () => {
    const r = Rng.of(7);
    let s = 0, s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const f = r.float();
      const k = r.int(-2, 3);
      if (!(f >= 0 && f < 1) || !(k >= -2 && k <= 3 && Number.isInteger(k))) throw new Error(`out of range: ${f} ${k}`);
      const g = r.gaussian();
      s += g;
      s2 += g * g;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
    expect(['a', 'b', 'c']).toContain(r.choice(['a', 'b', 'c']));
  });
});

describe('direct encoding', () => {
  it('polynomial mutation stays in [0,1] and matches E|delta| = 1/(eta+2)', () => {
    const rng = Rng.of(1);
    const n = 200_000;
    let sum = 0, below = 0;
    for (let i = 0; i < n; i++) {
      const d = polynomialMutate(0.5, 15, rng) - 0.5;
      sum += Math.abs(d);
      if (Math.abs(d) <= 0.05) below++;
      const e = polynomialMutate(i % 2 ? 0 : 1, 15, rng); // at the bounds: clipped
      if (!(e >= 0 && e <= 1)) throw new Error(`out of range: ${e}`);
    }
    expect(sum / n).toBeCloseTo(1 / 17, 2);
    // P(|delta| <= t) = 1 - (1 - t)^(eta + 1)
    expect(below / n).toBeCloseTo(1 - 0.95 ** 16, 2);
  });

  it('mutates each gene with probability rate', () => {
    const g = new Float32Array(100_000).fill(0.5);
    mutateDirectInPlace(g, 0.1, 15, Rng.of(2));
    const changed = g.filter((v) => v !== 0.5).length;
    expect(changed).toBeGreaterThan(9_700);
    expect(changed).toBeLessThan(10_300);
    expect(g.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('halves the rate at 1000 and 2000 (paper), keeps it fixed (released code)', () => {
    const p = defaultSettings('imagenet', 'direct').direct;
    expect([1, 999, 1000, 1999, 2000, 3000].map((g) => directMutationRate(p, g))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    expect(directMutationRate({ ...p, rateSchedule: 'fixed' }, 2500)).toBe(0.1);
  });

  it('SBX keeps equal genes equal (no reset to 0.5) and stays in [0,1]', () => {
    const rng = Rng.of(3);
    const a = new Float32Array(1000), b = new Float32Array(1000);
    for (let i = 0; i < 1000; i++) {
      a[i] = rng.float();
      b[i] = i % 2 ? a[i] : rng.float();
    }
    a[0] = b[0] = 0.9; // equal pair
    const c = sbx(a, b, 10, rng);
    for (let i = 0; i < 1000; i++) {
      if (a[i] === b[i]) expect(c[i]).toBe(a[i]);
      expect(c[i] >= 0 && c[i] <= 1).toBe(true);
    }
    let crossed = 0;
    for (let i = 0; i < 1000; i += 2) if (c[i] !== a[i] && c[i] !== b[i]) crossed++;
    // every differing gene is crossed (sferes2's sbx); a crossed value may land on a parent's only by chance
    expect(crossed).toBeGreaterThan(490);
  });

  it('renders grey as int(v*255) and colour through HSV or HLS', () => {
    expect([...renderDirect(new Float32Array([0, 0.5, 1, 0.999]), 1, 'hsv')]).toEqual([0, 127, 255, 254]);
    // one pixel: H = int(0.5*255) = 127 (254 deg), S = V = 255
    expect([...renderDirect(new Float32Array([0.5, 1, 1]), 3, 'hsv')]).toEqual(hsvToRgb(127, 255, 255));
    expect([...renderDirect(new Float32Array([0.5, 0.5, 1]), 3, 'hls')]).toEqual(hlsToRgb(127, 127, 255));
  });
});

describe('colour conversion (OpenCV 8-bit: H in half-degrees, others /255)', () => {
  it('HSV known values', () => {
    expect(hsvToRgb(0, 255, 255)).toEqual([255, 0, 0]);
    expect(hsvToRgb(30, 255, 255)).toEqual([255, 255, 0]); // 60 deg
    expect(hsvToRgb(60, 255, 255)).toEqual([0, 255, 0]); // 120 deg
    expect(hsvToRgb(90, 255, 255)).toEqual([0, 255, 255]);
    expect(hsvToRgb(120, 255, 255)).toEqual([0, 0, 255]);
    expect(hsvToRgb(150, 255, 255)).toEqual([255, 0, 255]);
    expect(hsvToRgb(77, 0, 128)).toEqual([128, 128, 128]);
    expect(hsvToRgb(20, 255, 255)).toEqual([255, 170, 0]); // 40 deg
    expect(hsvToRgb(200, 255, 255)).toEqual(hsvToRgb(20, 255, 255)); // 400 deg wraps like OpenCV
    expect(hsvToRgb(0, 255, 0)).toEqual([0, 0, 0]);
  });
  it('HLS known values', () => {
    expect(hlsToRgb(0, 128, 255)).toEqual([255, 1, 1]);
    expect(hlsToRgb(60, 127, 255)).toEqual([0, 254, 0]);
    expect(hlsToRgb(120, 255, 200)).toEqual([255, 255, 255]);
    expect(hlsToRgb(33, 0, 200)).toEqual([0, 0, 0]);
    expect(hlsToRgb(10, 100, 0)).toEqual([100, 100, 100]);
  });
  it('agrees with a textbook conversion to within 1', () => {
    const ref = (deg: number, c: number, x0: number): number[] => {
      // chroma c and minimum x0, hue in degrees
      const hp = deg / 60, x = c * (1 - Math.abs((hp % 2) - 1));
      const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
      return [r, g, b].map((v) => Math.round((v + x0) * 255));
    };
    const rng = Rng.of(9);
    for (let i = 0; i < 2000; i++) {
      const h = rng.int(0, 255), a = rng.int(0, 255), b = rng.int(0, 255);
      const deg = (2 * h) % 360;
      const v = b / 255, s = a / 255;
      const hsv = ref(deg, v * s, v - v * s);
      hsvToRgb(h, a, b).forEach((x, k) => expect(Math.abs(x - hsv[k])).toBeLessThanOrEqual(1));
      const l = a / 255, sl = b / 255, cl = (1 - Math.abs(2 * l - 1)) * sl;
      const hls = ref(deg, cl, l - cl / 2);
      hlsToRgb(h, a, b).forEach((x, k) => expect(Math.abs(x - hls[k])).toBeLessThanOrEqual(1));
    }
  });
});

describe('CPPN encoding', () => {
  const params = defaultSettings('imagenet', 'cppn').cppn;

  it('starts fully connected, no hidden nodes, activations drawn uniformly', () => {
    const counts: Record<string, number> = {};
    for (let s = 0; s < 400; s++) {
      const g = randomCppn(3, Rng.of(s));
      expect(g.nodes.map((n) => [n.id, n.kind])).toEqual([[4, 'output'], [5, 'output'], [6, 'output']]);
      expect(g.connections.map((c) => [c.from, c.to])).toEqual([4, 5, 6].flatMap((o) => [0, 1, 2, 3].map((i) => [i, o])));
      expect(validateCppn(g, 3)).toEqual([]);
      for (const n of g.nodes) counts[n.activation] = (counts[n.activation] ?? 0) + 1;
    }
    for (const a of ['sine', 'sigmoid', 'gaussian', 'linear']) expect(counts[a]).toBeGreaterThan(240); // 300 expected
  });

  it('mutation keeps the network feed-forward and acyclic, with stable node ids', () => {
    const rng = Rng.of(5);
    let g = randomCppn(1, rng);
    let maxHidden = 0;
    for (let i = 0; i < 400; i++) {
      const child = mutateCppn(g, params, rng).genome;
      expect(validateCppn(child, 1)).toEqual([]);
      // a node id present in both is the same node (kind kept); new ids only grow
      const before = new Map(g.nodes.map((n) => [n.id, n.kind]));
      for (const n of child.nodes) if (before.has(n.id)) expect(n.kind).toBe(before.get(n.id));
      expect(child.nextNodeId).toBeGreaterThanOrEqual(g.nextNodeId);
      g = child;
      maxHidden = Math.max(maxHidden, g.nodes.length - 1);
    }
    expect(maxHidden).toBeGreaterThan(5);
    // every candidate connection really keeps it acyclic
    for (const [from, to] of candidateConnections(g).filter((_, i) => i % 25 === 0)) {
      expect(validateCppn({ ...g, connections: [...g.connections, { from, to, gene: 0.5 }] }, 1)).toEqual([]);
    }
  });

  it('applies each operator with its probability', () => {
    // a parent where every operator can act: hidden nodes and free pairs
    const rng = Rng.of(11);
    let parent = randomCppn(1, rng);
    while (parent.nodes.length < 5) parent = mutateCppn(parent, { ...params, addNode: 1, deleteNode: 0, deleteConnection: 0 }, rng).genome;
    expect(candidateConnections(parent).length).toBeGreaterThan(0);
    const n = 20_000;
    const c = { w: 0, a: 0, ac: 0, dc: 0, an: 0, dn: 0 };
    for (let i = 0; i < n; i++) {
      const { log } = mutateCppn(parent, params, rng);
      c.w += log.weights;
      c.a += log.activations;
      c.ac += +log.addConnection;
      c.dc += +log.deleteConnection;
      c.an += +log.addNode;
      c.dn += +log.deleteNode;
    }
    expect(c.w / (n * parent.connections.length)).toBeCloseTo(0.1, 2);
    expect(c.a / (n * parent.nodes.length)).toBeCloseTo(0.1, 2);
    expect(c.ac / n).toBeCloseTo(0.5, 1);
    expect(c.dc / n).toBeCloseTo(0.3, 1);
    expect(c.an / n).toBeCloseTo(0.5, 1);
    expect(c.dn / n).toBeCloseTo(0.2, 1);
  });

  it('add node splits a connection, both halves keep the weight gene', () => {
    const rng = Rng.of(12);
    const g = randomCppn(1, rng);
    const only = { ...params, weightMutationRate: 0, activationMutationRate: 0, addConnection: 0, deleteConnection: 0, addNode: 1, deleteNode: 0 };
    const child = mutateCppn(g, only, rng).genome;
    const h = child.nodes.find((n) => n.kind === 'hidden')!;
    expect(h.id).toBe(5);
    const into = child.connections.find((c) => c.to === h.id)!;
    const out = child.connections.find((c) => c.from === h.id)!;
    expect(into.gene).toBe(out.gene);
    const old = g.connections.find((c) => c.from === into.from && c.to === out.to)!;
    expect(old.gene).toBe(into.gene);
    expect(child.connections.some((c) => c.from === into.from && c.to === out.to)).toBe(false);
    expect(child.connections.length).toBe(g.connections.length + 1);
  });

  it('round-trips through JSON and rejects a cycle', () => {
    let g = randomCppn(3, Rng.of(13));
    for (let i = 0; i < 20; i++) g = mutateCppn(g, params, Rng.of(13, i)).genome;
    expect(cppnFromJSON(cppnToJSON(g))).toEqual(g);
    const cyc: CppnGenome = {
      nodes: [{ id: 4, kind: 'output', activation: 'sine' }, { id: 5, kind: 'hidden', activation: 'sine' }, { id: 6, kind: 'hidden', activation: 'sine' }],
      connections: [{ from: 5, to: 6, gene: 0.5 }, { from: 6, to: 5, gene: 0.5 }, { from: 6, to: 4, gene: 0.5 }],
      nextNodeId: 7,
    };
    expect(() => cppnFromJSON(JSON.stringify(cyc))).toThrow(/cycle/);
  });
});

describe('CPPN rendering', () => {
  // a hidden sine node fed by x, an output sigmoid fed by the hidden node, the bias and d
  const g: CppnGenome = {
    nodes: [{ id: 4, kind: 'output', activation: 'sigmoid' }, { id: 7, kind: 'hidden', activation: 'sine' }],
    connections: [
      { from: 0, to: 7, gene: 0.5625 }, // w = 20 * 0.5625 - 10 = 1.25
      { from: 7, to: 4, gene: 0.75 }, // w = 5
      { from: 3, to: 4, gene: 0.625 }, // bias, w = 2.5
      { from: 2, to: 4, gene: 0.25 }, // d, w = -5
    ],
    nextNodeId: 8,
  };
  const hand = (coords: 'pixel' | 'normalized', W: number, H: number): number[] => {
    const px: number[] = [];
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const xn = (2 * c) / (W - 1) - 1, yn = (2 * r) / (H - 1) - 1;
        const x = coords === 'pixel' ? c : xn;
        const d = Math.sqrt(xn * xn + yn * yn);
        const h = Math.sin(1.25 * x);
        const p = 5 * h + 2.5 * 1 - 5 * d;
        const o = 2 / (1 + Math.exp(-p)) - 1;
        px.push(Math.floor(Math.abs(o) * 255));
      }
    }
    return px;
  };
  const opts = { width: 4, height: 3, channels: 1 as const, colorSpace: 'hsv' as const, weightMin: -10, weightMax: 10 };

  it('equals a hand computation (pixel and normalized coordinates)', () => {
    for (const coordinates of ['pixel', 'normalized'] as const) {
      const r = new Renderer({ ...opts, coordinates });
      expect([...r.renderCppn(g)]).toEqual(hand(coordinates, 4, 3));
      expect([...r.renderCppn(g)]).toEqual(hand(coordinates, 4, 3)); // scratch reuse is harmless
    }
  });

  it('linear, gaussian and an unconnected output', () => {
    const r = new Renderer({ ...opts, width: 3, height: 1, coordinates: 'pixel' });
    const lin: CppnGenome = { nodes: [{ id: 4, kind: 'output', activation: 'linear' }], connections: [{ from: 0, to: 4, gene: 0.5625 }], nextNodeId: 5 };
    expect([...r.renderCppn(lin)]).toEqual([0, Math.floor((1.25 / 3) * 255), Math.floor((2.5 / 3) * 255)]);
    const gau: CppnGenome = { nodes: [{ id: 4, kind: 'output', activation: 'gaussian' }], connections: [], nextNodeId: 5 };
    expect([...r.renderCppn(gau)]).toEqual([255, 255, 255]); // exp(-0^2) = 1
  });

  it('three outputs are H, S, V bytes converted to RGB', () => {
    const r = new Renderer({ ...opts, width: 1, height: 1, channels: 3, coordinates: 'pixel' });
    // x = y = 0, d = 0 for a 1x1 image: only the bias matters. H: gaussian(0) = 1 -> 255; S, V: linear(2.5)/3
    const c: CppnGenome = {
      nodes: [
        { id: 4, kind: 'output', activation: 'gaussian' },
        { id: 5, kind: 'output', activation: 'linear' },
        { id: 6, kind: 'output', activation: 'linear' },
      ],
      connections: [{ from: 3, to: 5, gene: 0.625 }, { from: 3, to: 6, gene: 0.625 }],
      nextNodeId: 7,
    };
    const sv = Math.floor((2.5 / 3) * 255);
    expect([...r.renderCppn(c)]).toEqual(hsvToRgb(255, sv, sv));
  });
});
