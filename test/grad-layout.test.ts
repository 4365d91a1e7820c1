import { describe, expect, it } from 'vitest';
import { type ModelProto, makeNode } from '../src/main/core/models/onnx-graph';
import { buildGradientModel } from '../src/main/core/grad/backward';
import { checkCase, graph, runGrad, uniform } from './grad-check';

/**
 * The formulations the gradient graph takes so that onnxruntime keeps it in its blocked (NCHWc)
 * layout (issue 15, docs/benchmarks.md): ReLU masks from a depthwise Conv + HardSigmoid, Concat's
 * gradient as one Conv per part instead of a Split, and a 1x1 Conv's input gradient as a Conv
 * of the cropped output gradient. Each is checked in use, exact where exactness is at stake, and
 * against float64 finite differences.
 */

const n = makeNode;
const ops = (m: ModelProto) => (m.graph!.node ?? []).map((x) => x.opType);
/** A 1x1 Conv weight that copies each of `c` channels. */
const identity = (c: number) => Float32Array.from({ length: c * c }, (_, i) => (Math.floor(i / c) === i % c ? 1 : 0));

describe('gradient formulations for the blocked layout', () => {
  it('ReLU mask between Convs of 16 channels: exactly [y > 0], at zeros, subnormals and huge values', async () => {
    const C = 16;
    // x -> copy -> Relu -> copy -> mean over the map: dJ/dx = W[c] / 4 where x > 0, else exactly 0.
    const model = graph(
      [n('Conv', ['x', 'I'], ['a']), n('Relu', ['a'], ['r']), n('Conv', ['r', 'I'], ['b']), n('GlobalAveragePool', ['b'], ['p']), n('Flatten', ['p'], ['z'], { axis: 1 })],
      [C, 2, 2],
      'z',
      { I: [[C, C, 1, 1], identity(C)] },
    );
    const opts = { output: 'z', outputKind: 'logits' as const, objective: 'logit' as const, wrt: ['x'] };
    expect(ops(buildGradientModel(model, opts))).toContain('HardSigmoid');
    expect(ops(buildGradientModel(model, opts))).not.toContain('Greater');
    const special = [0, -0, 1e-45, 1.2e-38, 1e-39, -1e-45, 3e38, 1, -1, 1e-30, -3e38, 0.5];
    const x = Float32Array.from({ length: 2 * C * 4 }, (_, i) => special[i % special.length] * (i % 7 === 3 ? -1 : 1));
    const W = Float32Array.from({ length: 2 * C }, (_, i) => (i % 5) - 2);
    const out = await runGrad(model, opts, x, [2, C, 2, 2], W, C);
    const g = out['grad__x'].data as Float32Array;
    const expected = Float32Array.from(x, (v, i) => (v > 0 ? W[Math.floor(i / (C * 4)) * C + (Math.floor(i / 4) % C)] / 4 : 0));
    expect(Array.from(g)).toEqual(Array.from(expected));
  });

  it('a fire module (squeeze, two expands, Concat, next squeeze): Concat gradient without a Split', async () => {
    const model = graph(
      [
        n('Conv', ['x', 'Ws'], ['s0']),
        n('Relu', ['s0'], ['s']),
        n('Conv', ['s', 'We1', 'Be1'], ['e1p']),
        n('Relu', ['e1p'], ['e1']),
        n('Conv', ['s', 'We3', 'Be3'], ['e3p'], { pads: [1, 1, 1, 1] }),
        n('Relu', ['e3p'], ['e3']),
        n('Concat', ['e1', 'e3'], ['cat'], { axis: 1 }),
        n('Conv', ['cat', 'Wn'], ['q0']),
        n('Relu', ['q0'], ['q']),
        n('GlobalAveragePool', ['q'], ['p']),
        n('Flatten', ['p'], ['z'], { axis: 1 }),
      ],
      [16, 4, 4],
      'z',
      { Ws: [16, 16, 1, 1], We1: [16, 16, 1, 1], Be1: [16], We3: [32, 16, 3, 3], Be3: [32], Wn: [16, 48, 1, 1] },
    );
    const gm = buildGradientModel(model, { output: 'z', outputKind: 'logits', objective: 'logit', wrt: ['x'] });
    const g = ops(gm);
    // The only Split cuts the next squeeze's (constant) weight, never a gradient.
    const convOut = new Set(gm.graph!.node!.filter((x) => x.opType === 'Conv').map((x) => x.output![0]));
    const splits = gm.graph!.node!.filter((x) => x.opType === 'Split');
    expect(splits).toHaveLength(1);
    expect(convOut.has(splits[0].input![0])).toBe(false);
    expect(g).not.toContain('ConvTranspose');
    expect(g.filter((o) => o === 'HardSigmoid')).toHaveLength(3);
    await checkCase({ name: 'fire module', model, inputDims: [16, 4, 4], K: 16, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'log-probability' } });
  });

  it('a 1x1 Conv padded wider than its kernel (SqueezeNet conv10), channels not in blocks of 16: a Conv of the cropped gradient', async () => {
    for (const pads of [
      [1, 1, 1, 1],
      [2, 0, 1, 3],
    ]) {
      const model = graph([n('Conv', ['x', 'W', 'B'], ['c'], { pads }), n('Relu', ['c'], ['r']), n('GlobalAveragePool', ['r'], ['p']), n('Flatten', ['p'], ['z'], { axis: 1 })], [12, 3, 4], 'z', {
        W: [10, 12, 1, 1],
        B: [[10], uniform(10, 0.1, 0.5)],
      });
      const g = ops(buildGradientModel(model, { output: 'z', outputKind: 'logits', objective: 'logit', wrt: ['x'] }));
      expect(g).not.toContain('ConvTranspose');
      expect(g).toContain('Slice');
      await checkCase({ name: `1x1 conv pads ${pads}`, model, inputDims: [12, 3, 4], K: 10, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'log-probability' } });
    }
  });

  it('ReLU then an overlapping max pool: masked at the pooled tensor, bit-identical to masking after routing, ties included', async () => {
    // Quantised values: many ties inside the 3x3 windows, and windows that are all <= 0.
    const C = 4;
    const x = Float32Array.from({ length: 2 * C * 7 * 7 }, (_, i) => Math.round(Math.sin(i * 0.37) * 2) - 0.5 * (i % 3 === 0 ? 1 : 0));
    const W = Float32Array.from({ length: 2 * 2 * C }, (_, i) => (i % 3) - 1.25);
    const pool = { kernel_shape: [3, 3], strides: [2, 2] };
    const head = [n('Conv', ['p', 'H'], ['h']), n('GlobalAveragePool', ['h'], ['g']), n('Flatten', ['g'], ['z'], { axis: 1 })];
    // Fixed weights: both formulations of each variant get the same ones.
    const fixed = (dims: number[]): [number[], Float32Array] => [dims, uniform(dims.reduce((a, b) => a * b, 1), -0.5, 0.5)];
    const inits = { H: fixed([2 * C, C, 1, 1]), Cv: fixed([C, C, 1, 1]) };
    const H2 = fixed([2 * C, 2 * C, 1, 1]);
    const variants = (through: boolean) => [
      // Relu -> MaxPool (through an Identity: the plain formulation, mask after routing).
      graph([n('Relu', ['x'], ['r']), ...(through ? [n('Identity', ['r'], ['ri'])] : []), n('MaxPool', [through ? 'ri' : 'r'], ['p'], pool), ...head], [C, 7, 7], 'z', inits),
      // Concat of two ReLUs -> MaxPool (a fire module before SqueezeNet's pool4 and pool8).
      graph(
        [n('Relu', ['x'], ['r1']), n('Conv', ['x', 'Cv'], ['c2']), n('Relu', ['c2'], ['r2']), n('Concat', ['r1', 'r2'], ['cat'], { axis: 1 }), ...(through ? [n('Identity', ['cat'], ['ci'])] : []), n('MaxPool', [through ? 'ci' : 'cat'], ['p'], pool), ...head],
        [C, 7, 7],
        'z',
        { ...inits, H: H2 },
      ),
    ];
    const opts = { output: 'z', outputKind: 'logits' as const, objective: 'log-probability' as const, wrt: ['x'] };
    const masked = variants(false);
    const plain = variants(true);
    for (const [i, m] of masked.entries()) {
      // The fast form is in use: one mask (at the pool), none at the ReLUs.
      expect(ops(buildGradientModel(m, opts)).filter((o) => o === 'Greater')).toHaveLength(1);
      const a = (await runGrad(m, opts, x, [2, C, 7, 7], W, 2 * C))['grad__x'].data as Float32Array;
      const b = (await runGrad(plain[i], opts, x, [2, C, 7, 7], W, 2 * C))['grad__x'].data as Float32Array;
      expect(a.some((v) => v !== 0)).toBe(true);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});
