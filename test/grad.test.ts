import { describe, expect, it } from 'vitest';
import { type NodeProto, makeNode, onnx } from '../src/main/core/models/onnx-graph';
import { PROBS_OUTPUT, buildGradientModel } from '../src/main/core/grad/backward';
import { evaluate } from '../src/main/core/grad/reference';
import { checkCase, graph, runGrad, uniform } from './grad-check';

/**
 * Each backward rule against float64 central finite differences. onnxruntime has no float64 Conv
 * or pooling kernels, so the reference forward is the float64 interpreter in reference.ts; the
 * gradient graph itself runs in onnxruntime in float32.
 */

const fc = (input: string, features: number, K: number): [NodeProto[], Record<string, number[]>] => [
  [makeNode('Flatten', [input], ['flat'], { axis: 1 }), makeNode('Gemm', ['flat', 'fcW', 'fcB'], ['logits'], { transB: 1 })],
  { fcW: [K, features], fcB: [K] },
];

describe('gradient rules vs float64 finite differences', () => {
  it('Conv: strides, asymmetric pads, dilations; grads wrt input, weight, bias', async () => {
    // Output spatial: H = floor((7+1+2-3)/2)+1 = 4, W = floor((7+0+1-5)/1)+1 = 4.
    const [head, headW] = fc('c', 4 * 4 * 4, 5);
    const conv = makeNode('Conv', ['x', 'cW', 'cB'], ['c'], { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] });
    const model = graph([conv, ...head], [3, 7, 7], 'logits', { cW: [4, 3, 3, 3], cB: [4], ...headW });
    await checkCase({ name: 'conv', model, inputDims: [3, 7, 7], K: 5, z: 'logits', opts: { output: 'logits', outputKind: 'logits', objective: 'log-probability', wrt: ['x', 'cW', 'cB', 'fcW', 'fcB'] } });
  });

  it('grouped and depthwise Conv, Relu, GlobalAveragePool, MatMul+Add, Softmax output', async () => {
    const nodes = [
      makeNode('Conv', ['x', 'gW', 'gB'], ['g'], { group: 2, pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['g'], ['r']),
      makeNode('Conv', ['r', 'dW'], ['d'], { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }),
      makeNode('GlobalAveragePool', ['d'], ['gap']),
      makeNode('Flatten', ['gap'], ['f'], { axis: 1 }),
      makeNode('MatMul', ['f', 'mW'], ['mm']),
      makeNode('Add', ['mm', 'mB'], ['z']),
      makeNode('Softmax', ['z'], ['prob'], { axis: 1 }),
    ];
    const model = graph(nodes, [4, 6, 6], 'prob', { gW: [4, 2, 3, 3], gB: [4], dW: [8, 1, 3, 3], mW: [8, 6], mB: [6] });
    await checkCase({ name: 'group/depthwise', model, inputDims: [4, 6, 6], K: 6, z: 'z', opts: { output: 'prob', outputKind: 'probabilities', objective: 'probability', wrt: ['x', 'gW', 'gB', 'dW', 'mW', 'mB'] } });
  });

  for (const [label, attrs] of <[string, Record<string, number | number[]>][]>[
    ['3x3 stride 2 ceil_mode (overlapping)', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
    ['2x2 stride 2', { kernel_shape: [2, 2], strides: [2, 2] }],
    ['3x3 stride 2 pads', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['2x2 stride 2 asymmetric pads', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 1] }],
  ]) {
    it(`MaxPool ${label}`, async () => {
      const nodes = [makeNode('MaxPool', ['x'], ['p'], attrs), makeNode('Flatten', ['p'], ['f'], { axis: 1 }), makeNode('Gemm', ['f', 'W', 'B'], ['z'], { transB: 1 })];
      // Input 9x8: ceil 4x4 (W would be 3 with floor), 2x2 4x4, 3x3 padded 5x4, 2x2 padded 5x5.
      const out = label.includes('asymmetric') ? 5 * 5 : label.includes('pads') ? 5 * 4 : 4 * 4;
      const model = graph(nodes, [2, 9, 8], 'z', { W: [4, 2 * out], B: [4] });
      await checkCase({ name: `maxpool ${label}`, model, inputDims: [2, 9, 8], K: 4, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'logit' } });
    });
  }

  for (const cip of [0, 1])
    for (const ceil of [0, 1])
      it(`AveragePool count_include_pad=${cip} ceil_mode=${ceil}`, async () => {
        const attrs = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], count_include_pad: cip, ceil_mode: ceil };
        // H: (8+2-3)/2 -> floor 4+1=4 / ceil 5; W: (7+1-3)/2 -> 3 / ceil 4
        const [ho, wo] = ceil ? [5, 4] : [4, 3];
        const nodes = [makeNode('AveragePool', ['x'], ['p'], attrs), makeNode('Flatten', ['p'], ['f'], { axis: 1 }), makeNode('MatMul', ['f', 'W'], ['z'])];
        const model = graph(nodes, [2, 8, 7], 'z', { W: [2 * ho * wo, 3] });
        await checkCase({ name: `avgpool cip=${cip} ceil=${ceil}`, model, inputDims: [2, 8, 7], K: 3, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'log-probability' } });
      });

  it('LRN (through its rewrite: Mul, Reshape, Unsqueeze, AveragePool, Shape, Sqrt, Add, Div)', async () => {
    const nodes = [
      makeNode('Conv', ['x', 'cW'], ['c']),
      makeNode('LRN', ['c'], ['l'], { size: 3, alpha: { float: 0.5 }, beta: { float: 0.75 }, bias: { float: 1 } }),
      makeNode('Relu', ['l'], ['r']),
      ...fc('r', 5 * 3 * 3, 4)[0],
    ];
    const model = graph(nodes, [2, 5, 5], 'logits', { cW: [5, 2, 3, 3], fcW: [4, 45], fcB: [4] });
    await checkCase({ name: 'lrn', model, inputDims: [2, 5, 5], K: 4, z: 'logits', opts: { output: 'logits', outputKind: 'logits', objective: 'probability', wrt: ['x', 'cW'] }, xRange: [-2, 2] });
  });

  it('BatchNormalization, Clip (min/max inputs), broadcast Add/Mul, Concat, Dropout, Identity, Reshape', async () => {
    const C = 3;
    const bn = (name: string, v: number[]) => [name, [[C], Float32Array.from(v)]] as const;
    const nodes = [
      makeNode('BatchNormalization', ['x', 'bs', 'bb', 'bm', 'bv'], ['bn'], { epsilon: { float: 1e-3 } }),
      makeNode('Clip', ['bn', 'lo', 'hi'], ['clip']),
      makeNode('Add', ['clip', 'addB'], ['a']), // [N,3,4,4] + [3,1,1]
      makeNode('Mul', ['a', 'mulS'], ['m']), // * [1,3,1,1]
      makeNode('Mul', ['m', 'x'], ['mx']), // both operands carry gradient
      makeNode('Concat', ['mx', 'x'], ['cat'], { axis: 1 }),
      makeNode('Dropout', ['cat'], ['drop']),
      makeNode('Identity', ['drop'], ['id']),
      makeNode('Reshape', ['id', 'shp'], ['rs']),
      makeNode('Gemm', ['rs', 'W'], ['z']),
    ];
    const model = graph(nodes, [C, 4, 4], 'z', {
      ...Object.fromEntries([bn('bs', [1.5, -0.7, 0.9]), bn('bb', [0.1, 0.2, -0.3]), bn('bm', [0.05, -0.1, 0.2]), bn('bv', [0.8, 1.3, 0.5])]),
      lo: [[], [0]],
      hi: [[], [0.6]],
      addB: [C, 1, 1],
      mulS: [1, C, 1, 1],
      W: [96, 5],
    });
    model.graph!.initializer!.push(onnx.TensorProto.create({ name: 'shp', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, -1] }));
    await checkCase({ name: 'bn/clip/broadcast', model, inputDims: [C, 4, 4], K: 5, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'log-probability', wrt: ['x', 'addB', 'mulS', 'W'] } });
  });

  it('Gemm transA/transB with alpha, beta; Transpose; opset-10 Softmax over a [N,K,1,1] tensor; Clip attributes', async () => {
    const nodes = [
      makeNode('Clip', ['x'], ['c'], { min: { float: -0.5 }, max: { float: 0.7 } }),
      makeNode('Transpose', ['c'], ['t'], { perm: [1, 0] }),
      makeNode('Gemm', ['t', 'A', 'bias'], ['g1'], { transA: 1, transB: 1, alpha: { float: 0.7 }, beta: { float: 1.3 } }),
      makeNode('Gemm', ['A2', 'g1', 'b2'], ['g2T'], { transB: 1, alpha: { float: 1.1 } }), // [K, N]
      makeNode('Transpose', ['g2T'], ['g2'], { perm: [1, 0] }),
      makeNode('Reshape', ['g2', 'shp'], ['z4']),
      makeNode('Softmax', ['z4'], ['prob']),
    ];
    const model = graph(nodes, [6], 'prob', { A: [5, 6], bias: [5], A2: [4, 5], b2: [4, 1] }, 9);
    model.graph!.initializer!.push(onnx.TensorProto.create({ name: 'shp', dims: [4], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 4, 1, 1] }));
    // Clip with attributes is opset-6 style: opset 10 makes it valid, and Softmax then coerces to 2-D.
    model.opsetImport = [{ domain: '', version: 10 }];
    await checkCase({ name: 'gemm/transpose/softmax-opset10', model, inputDims: [6], K: 4, z: 'z4', opts: { output: 'prob', outputKind: 'probabilities', objective: 'log-probability', wrt: ['x', 'A', 'bias', 'A2', 'b2'] } });
  });

  it('Sigmoid, Tanh, LeakyRelu, Sub, Div, inner Softmax/LogSoftmax, Unsqueeze/Squeeze, 3-D MatMul, SAME_UPPER Conv', async () => {
    const nodes = [
      makeNode('Conv', ['x', 'cW'], ['c'], { auto_pad: 'SAME_UPPER', strides: [2, 2] }), // [N,2,3,3]
      makeNode('Sigmoid', ['c'], ['s']),
      makeNode('Tanh', ['c'], ['t']),
      makeNode('Sub', ['s', 't'], ['d']),
      makeNode('LeakyRelu', ['c'], ['l'], { alpha: { float: 0.2 } }),
      makeNode('Div', ['d', 'den'], ['q']), // den = 1.5 + sigmoid-ish, > 0
      makeNode('Add', ['q', 'l'], ['a']),
      makeNode('Reshape', ['a', 'shp'], ['r']), // [N, 2, 9]
      makeNode('Softmax', ['r'], ['sm'], { axis: 2 }),
      makeNode('LogSoftmax', ['r'], ['ls'], { axis: 1 }),
      makeNode('Mul', ['sm', 'ls'], ['mix']),
      makeNode('Unsqueeze', ['mix', 'ax'], ['u']), // [N, 1, 2, 9]
      makeNode('Squeeze', ['u', 'ax'], ['sq']),
      makeNode('MatMul', ['sq', 'mW'], ['mm']), // [N, 2, 4]
      makeNode('Flatten', ['mm'], ['z'], { axis: 1 }),
    ];
    const model = graph(nodes, [2, 5, 5], 'z', { cW: [2, 2, 3, 3], den: [[2, 1, 1], [1.5, 2.5]], mW: [9, 4] });
    model.graph!.initializer!.push(
      onnx.TensorProto.create({ name: 'shp', dims: [3], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 2, 9] }),
      onnx.TensorProto.create({ name: 'ax', dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [1] }),
    );
    await checkCase({ name: 'misc', model, inputDims: [2, 5, 5], K: 8, z: 'z', opts: { output: 'z', outputKind: 'logits', objective: 'log-probability', wrt: ['x', 'cW', 'den', 'mW'] } });
  });

  it('all three objectives agree with finite differences on one conv net', async () => {
    for (const objective of ['probability', 'log-probability', 'logit'] as const) {
      const nodes = [makeNode('Conv', ['x', 'cW', 'cB'], ['c'], { pads: [1, 1, 1, 1] }), makeNode('Relu', ['c'], ['r']), makeNode('MaxPool', ['r'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }), ...fc('p', 3 * 3 * 3, 4)[0]];
      const model = graph(nodes, [1, 6, 6], 'logits', { cW: [3, 1, 3, 3], cB: [3], fcW: [4, 27], fcB: [4] });
      await checkCase({ name: 'objectives', model, inputDims: [1, 6, 6], K: 4, z: 'logits', opts: { output: 'logits', outputKind: 'logits', objective, wrt: ['x', 'cW'] } });
    }
  });

  it('probs output is the softmax of the logits', async () => {
    const nodes = [makeNode('MatMul', ['x', 'W'], ['z'])];
    const model = graph(nodes, [3], 'z', { W: [3, 4] });
    const x = uniform(6);
    const out = await runGrad(model, { output: 'z', outputKind: 'logits', objective: 'logit', wrt: ['x'] }, x, [2, 3], uniform(8), 4);
    const z = evaluate(model, { x: { data: Float64Array.from(x), dims: [2, 3] } }, ['z']).z.data;
    const p = out[PROBS_OUTPUT].data as Float32Array;
    for (let n = 0; n < 2; n++) {
      const e = Array.from(z.subarray(n * 4, n * 4 + 4), Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, k) => expect(p[n * 4 + k]).toBeCloseTo(v / s, 6));
    }
  });

  it('an operator without a rule is a FoolError naming it', () => {
    const nodes = [makeNode('Cos', ['x'], ['e'], {}, 'my_cos'), makeNode('MatMul', ['e', 'W'], ['z'])];
    const model = graph(nodes, [3], 'z', { W: [3, 4] });
    expect(() => buildGradientModel(model, { output: 'z', outputKind: 'logits', objective: 'logit', wrt: ['x'] })).toThrow(
      expect.objectContaining({ name: 'FoolError', code: 'UNSUPPORTED', message: expect.stringMatching(/operator Cos \(node my_cos\) has no gradient rule.*Supported: .*Conv/) }),
    );
  });
});
