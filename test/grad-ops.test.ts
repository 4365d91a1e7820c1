import { afterAll, describe, expect, it } from 'vitest';
import { type NodeProto, floatTensor, makeNode } from '../src/main/core/models/onnx-graph';
import { type Objective, buildGradientModel } from '../src/main/core/grad/backward';
import { evaluate } from '../src/main/core/grad/reference';
import { checkCase, graph, ints, uniform } from './grad-check';

/**
 * One finite-difference check per op that standard exports (torchvision, Keras via tf2onnx,
 * Caffe converters) use, in each attribute form the op has had across opsets: a small graph of the
 * op under test, then Flatten + Gemm to 3 logits, every element of x and of each weight against
 * float64 central differences (relative error < 1e-4). The worst error per op is printed at the end
 * (docs/gradients.md's table).
 */

const K = 3;
const worst = new Map<string, number>();

type Init = number[] | [number[], ArrayLike<number>];
interface OpCase {
  nodes: NodeProto[];
  /** The tensor the head reads. */
  last: string;
  input: number[];
  inits?: Record<string, Init>;
  intInits?: Record<string, number[] | number>;
  opset?: number;
  wrt?: string[];
  objective?: Objective;
  xRange?: [number, number];
}

async function check(op: string, label: string, c: OpCase) {
  const model = graph(c.nodes, c.input, 'z', c.inits ?? {}, c.opset ?? 13);
  for (const [name, v] of Object.entries(c.intInits ?? {})) ints(model, name, v);
  // The head's width from the float64 forward of the op graph.
  const probe = evaluate(model, { x: { data: new Float64Array([2, ...c.input].reduce((a, b) => a * b, 1)), dims: [2, ...c.input] } }, [c.last])[c.last];
  const features = probe.data.length / 2;
  model.graph!.node!.push(makeNode('Flatten', [c.last], ['head_flat'], { axis: 1 }), makeNode('Gemm', ['head_flat', 'head_W', 'head_B'], ['z'], { transB: 1 }));
  model.graph!.initializer!.push(floatTensor('head_W', uniform(K * features, -0.5, 0.5), [K, features]), floatTensor('head_B', uniform(K, -0.5, 0.5), [K]));
  const errors = await checkCase({
    name: `${op} ${label}`,
    model,
    inputDims: c.input,
    K,
    z: 'z',
    opts: { output: 'z', outputKind: 'logits', objective: c.objective ?? 'log-probability', wrt: ['x', ...(c.wrt ?? [])] },
    xRange: c.xRange,
  });
  worst.set(op, Math.max(worst.get(op) ?? 0, ...Object.values(errors)));
}

afterAll(() => {
  const rows = [...worst.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([op, e]) => `${op}: ${e.toExponential(1)}`);
  console.log(`worst relative error per op:\n${rows.join('\n')}`);
});

const n = makeNode;

describe('gradient rule of each op vs float64 finite differences', () => {
  it('ReduceMean: axes attribute (opset 13) and input (opset 18), keepdims 0/1, negative axes, the batch axis', async () => {
    await check('ReduceMean', 'axes [2,3] keepdims 0 (torch x.mean([2,3]))', { nodes: [n('ReduceMean', ['x'], ['r'], { axes: [2, 3], keepdims: 0 })], last: 'r', input: [3, 4, 4] });
    await check('ReduceMean', 'axes [-1] keepdims 1', { nodes: [n('ReduceMean', ['x'], ['r'], { axes: [-1], keepdims: 1 })], last: 'r', input: [3, 4, 4] });
    await check('ReduceMean', 'opset 18, axes input [1,3], keepdims 1', { nodes: [n('ReduceMean', ['x', 'ax'], ['r'], { keepdims: 1 })], last: 'r', input: [3, 4, 4], intInits: { ax: [1, 3] }, opset: 18 });
    await check('ReduceMean', 'opset 18, axes input [2,3], keepdims 0', { nodes: [n('ReduceMean', ['x', 'ax'], ['r'], { keepdims: 0 })], last: 'r', input: [3, 4, 4], intInits: { ax: [2, 3] }, opset: 18 });
    // Over the batch: its size (and so the mean's count) is known only at run time.
    await check('ReduceMean', 'axis 0 (the batch), added back to x', { nodes: [n('ReduceMean', ['x'], ['m'], { axes: [0], keepdims: 1 }), n('Mul', ['x', 'm'], ['r'])], last: 'r', input: [2, 3] });
  });

  it('ReduceSum: axes attribute (opset 11) and input (opset 13), keepdims 0/1, all axes, noop_with_empty_axes', async () => {
    await check('ReduceSum', 'opset 11, axes [1] keepdims 0', { nodes: [n('ReduceSum', ['x'], ['r'], { axes: [1], keepdims: 0 })], last: 'r', input: [3, 4], opset: 11 });
    await check('ReduceSum', 'opset 13, axes input [-1] keepdims 1', { nodes: [n('ReduceSum', ['x', 'ax'], ['r'], { keepdims: 1 })], last: 'r', input: [3, 4], intInits: { ax: [-1] } });
    await check('ReduceSum', 'opset 13, no axes: everything, added to x', { nodes: [n('ReduceSum', ['x'], ['s'], { keepdims: 1 }), n('Mul', ['x', 's'], ['r'])], last: 'r', input: [2, 3] });
    await check('ReduceSum', 'opset 13, noop_with_empty_axes', { nodes: [n('ReduceSum', ['x'], ['r'], { noop_with_empty_axes: 1 })], last: 'r', input: [2, 3] });
  });

  it('GlobalAveragePool and GlobalMaxPool', async () => {
    await check('GlobalAveragePool', '', { nodes: [n('GlobalAveragePool', ['x'], ['r'])], last: 'r', input: [3, 4, 5] });
    await check('GlobalMaxPool', '', { nodes: [n('GlobalMaxPool', ['x'], ['r'])], last: 'r', input: [3, 4, 5] });
  });

  it('BatchNormalization (inference): 4-D (opset 9 and 15) and 2-D input', async () => {
    const C = 3;
    const bn = { s: [[C], [1.5, -0.7, 0.9]], b: [[C], [0.1, 0.2, -0.3]], m: [[C], [0.05, -0.1, 0.2]], v: [[C], [0.8, 1.3, 0.5]] } as Record<string, Init>;
    for (const opset of [9, 15]) {
      await check('BatchNormalization', `opset ${opset}, [N,3,4,4]`, { nodes: [n('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['r'], { epsilon: { float: 1e-3 } })], last: 'r', input: [C, 4, 4], inits: bn, opset });
    }
    await check('BatchNormalization', '[N,3] (BatchNorm1d)', { nodes: [n('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['r'])], last: 'r', input: [C], inits: bn });
  });

  it('Gemm: every transA/transB, alpha, beta, C absent, scalar, [K], [1,K] and [N,K]', async () => {
    const cs: [string, number[] | undefined][] = [['none', undefined], ['scalar', []], ['[K]', [4]], ['[1,K]', [1, 4]], ['[N,K]', [2, 4]]];
    let i = 0;
    for (const tA of [0, 1])
      for (const tB of [0, 1]) {
        const [cLabel, cDims] = cs[i++ % cs.length];
        const a = tA ? 'xt' : 'x';
        const nodes = [
          ...(tA ? [n('Transpose', ['x'], ['xt'], { perm: [1, 0] })] : []),
          n('Gemm', [a, 'B', ...(cDims ? ['C'] : [])], ['r'], { transA: tA, transB: tB, alpha: { float: 0.7 }, beta: { float: 1.3 } }),
        ];
        const inits: Record<string, Init> = { B: tB ? [4, 5] : [5, 4], ...(cDims ? { C: cDims } : {}) };
        await check('Gemm', `transA ${tA} transB ${tB} C ${cLabel}`, { nodes, last: 'r', input: [5], inits, wrt: ['B', ...(cDims ? ['C'] : [])] });
      }
    await check('Gemm', 'C [N,K] from the input', { nodes: [n('Gemm', ['x', 'B', 'x'], ['r'], { beta: { float: 0.5 } })], last: 'r', input: [4], inits: { B: [4, 4] }, wrt: ['B'] });
  });

  it('MatMul: by a weight, batched activations, broadcast weights, 1-D operands', async () => {
    await check('MatMul', '[N,2,3,4] x [4,5]', { nodes: [n('MatMul', ['x', 'W'], ['r'])], last: 'r', input: [2, 3, 4], inits: { W: [4, 5] }, wrt: ['W'] });
    await check('MatMul', 'x x^T, both batched [N,2,3,4]', { nodes: [n('Transpose', ['x'], ['t'], { perm: [0, 1, 3, 2] }), n('MatMul', ['x', 't'], ['r'])], last: 'r', input: [2, 3, 4] });
    await check('MatMul', '[N,2,3,4] x broadcast [2,4,5]', { nodes: [n('MatMul', ['x', 'W'], ['r'])], last: 'r', input: [2, 3, 4], inits: { W: [2, 4, 5] }, wrt: ['W'] });
    await check('MatMul', '[1,4,5] broadcast over [N,3,4]', { nodes: [n('MatMul', ['x', 'W'], ['r'])], last: 'r', input: [3, 4], inits: { W: [1, 4, 5] }, wrt: ['W'] });
    await check('MatMul', '[N,3,4] x 1-D [4]', { nodes: [n('MatMul', ['x', 'v'], ['r'])], last: 'r', input: [3, 4], inits: { v: [4] }, wrt: ['v'] });
    await check('MatMul', '1-D [3] x [N,3,4]', { nodes: [n('MatMul', ['v', 'x'], ['r'])], last: 'r', input: [3, 4], inits: { v: [3] }, wrt: ['v'] });
  });

  it('Add, Sub, Mul, Div with broadcasting on either side', async () => {
    // a: [N,3,1,4] and b: [N,1,4,1] both from x, broadcast to [N,3,4,4]; weights [4], [3,1,1], scalar.
    const pre = [
      n('Unsqueeze', ['x', 'ax2'], ['a']),
      n('ReduceMean', ['x'], ['m'], { axes: [1], keepdims: 1 }),
      n('Transpose', ['m'], ['b'], { perm: [0, 2, 1] }),
      n('Unsqueeze', ['b', 'ax3'], ['b4']),
      n('Sigmoid', ['b4'], ['bs']),
      n('Add', ['bs', 'half'], ['den']),
    ];
    const base = { input: [3, 4], intInits: { ax2: [2], ax3: [1] }, inits: { w4: [4], w311: [3, 1, 1], s: [] as number[], half: [[], [0.5]] as Init }, wrt: ['w4', 'w311', 's'] };
    for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
      const rhs = op === 'Div' ? 'den' : 'b4';
      const nodes = [...pre, n(op, ['a', rhs], ['ab']), n(op, ['ab', 'w4'], ['c1']), n(op === 'Div' ? 'Mul' : op, ['w311', 'c1'], ['c2']), n(op, ['c2', 's'], ['r'])];
      await check(op, 'both operands broadcast, weights [4], [3,1,1], scalar', { ...base, nodes, last: 'r', inits: op === 'Div' ? { ...base.inits, w4: [[4], [0.9, 1.2, -1.1, 1.4]], s: [[], [1.3]] } : base.inits });
    }
  });

  it('Relu, LeakyRelu, PRelu (per-channel and scalar slope), Sigmoid, Tanh, HardSigmoid, HardSwish', async () => {
    const x = { input: [3, 4], xRange: [-4, 4] as [number, number] };
    await check('Relu', '', { ...x, nodes: [n('Relu', ['x'], ['r'])], last: 'r' });
    await check('LeakyRelu', 'alpha 0.2', { ...x, nodes: [n('LeakyRelu', ['x'], ['r'], { alpha: { float: 0.2 } })], last: 'r' });
    await check('PRelu', 'slope [3,1]', { ...x, nodes: [n('PRelu', ['x', 'sl'], ['r'])], last: 'r', inits: { sl: [3, 1] }, wrt: ['sl'] });
    await check('PRelu', 'slope [1]', { ...x, nodes: [n('PRelu', ['x', 'sl'], ['r'])], last: 'r', inits: { sl: [1] }, wrt: ['sl'] });
    await check('Sigmoid', '', { ...x, nodes: [n('Sigmoid', ['x'], ['r'])], last: 'r' });
    await check('Tanh', '', { ...x, nodes: [n('Tanh', ['x'], ['r'])], last: 'r' });
    await check('HardSigmoid', 'alpha 0.3 beta 0.4', { ...x, nodes: [n('HardSigmoid', ['x'], ['r'], { alpha: { float: 0.3 }, beta: { float: 0.4 } })], last: 'r' });
    await check('HardSigmoid', 'defaults', { ...x, nodes: [n('HardSigmoid', ['x'], ['r'])], last: 'r' });
    await check('HardSwish', '', { input: [3, 4], xRange: [-5, 5], nodes: [n('HardSwish', ['x'], ['r'])], last: 'r', opset: 14 });
  });

  it('Clip: attributes (opset 6), min and max inputs, max only, neither', async () => {
    const x = { input: [3, 4], xRange: [-2, 2] as [number, number] };
    await check('Clip', 'attributes min -0.5 max 0.7 (opset 6)', { ...x, nodes: [n('Clip', ['x'], ['r'], { min: { float: -0.5 }, max: { float: 0.7 } })], last: 'r', opset: 6 });
    await check('Clip', 'inputs 0, 6 (ReLU6) on 4x input', { ...x, nodes: [n('Mul', ['x', 'four'], ['x4']), n('Clip', ['x4', 'lo', 'hi'], ['r'])], last: 'r', inits: { four: [[], [4]], lo: [[], [0]], hi: [[], [6]] } });
    await check('Clip', 'max input only', { ...x, nodes: [n('Clip', ['x', '', 'hi'], ['r'])], last: 'r', inits: { hi: [[], [0.3]] } });
    await check('Clip', 'no bounds', { ...x, nodes: [n('Clip', ['x'], ['r'])], last: 'r' });
  });

  it('Softmax and LogSoftmax along an axis (opset 13) and with the old 2-D coercion (opset 11)', async () => {
    for (const op of ['Softmax', 'LogSoftmax']) {
      await check(op, 'axis 1 of [N,3,4] (opset 13)', { nodes: [n(op, ['x'], ['r'], { axis: 1 })], last: 'r', input: [3, 4], xRange: [-3, 3] });
      await check(op, 'axis -1 (opset 13)', { nodes: [n(op, ['x'], ['r'], { axis: -1 })], last: 'r', input: [3, 4], xRange: [-3, 3] });
      await check(op, 'axis 1 of [N,3,4] = over 12 values (opset 11)', { nodes: [n(op, ['x'], ['r'], { axis: 1 })], last: 'r', input: [3, 4], xRange: [-3, 3], opset: 11 });
    }
  });

  it('Flatten, Reshape, Squeeze and Unsqueeze (attributes, opset 11; inputs, opset 13), Transpose', async () => {
    // Flatten at axis 2 folds the batch: [N,2,3,4] -> [2N,12]; the Reshape gives it back.
    await check('Flatten', 'axis 2', { nodes: [n('Flatten', ['x'], ['f'], { axis: 2 }), n('Mul', ['f', 'w'], ['m']), n('Reshape', ['m', 'shp'], ['r'])], last: 'r', input: [2, 3, 4], inits: { w: [1, 12] }, intInits: { shp: [-1, 24] } });
    await check('Reshape', '[0, 4, -1]', { nodes: [n('Reshape', ['x', 'shp'], ['s']), n('Mul', ['s', 'w'], ['r'])], last: 'r', input: [2, 6], intInits: { shp: [0, 4, -1] }, inits: { w: [4, 3] } });
    // Older torch.onnx exports of x.view(x.size(0), -1): the target shape computed from Shape.
    await check('Reshape', 'to a shape computed at run time (Shape, Gather, Unsqueeze, Concat)', {
      nodes: [
        n('Shape', ['x'], ['sh']),
        n('Gather', ['sh', 'zero'], ['batch'], { axis: 0 }),
        n('Unsqueeze', ['batch', 'ax0'], ['b1']),
        n('Concat', ['b1', 'minus1'], ['target'], { axis: 0 }),
        n('Reshape', ['x', 'target'], ['flat']),
        n('Mul', ['flat', 'w'], ['r']),
      ],
      last: 'r', input: [2, 3], intInits: { zero: 0, ax0: [0], minus1: [-1] }, inits: { w: [6] },
    });
    await check('Unsqueeze', 'axes attribute [1,-1] (opset 11)', { nodes: [n('Unsqueeze', ['x'], ['u'], { axes: [1, -1] }), n('Mul', ['u', 'w'], ['r'])], last: 'r', input: [3], inits: { w: [2, 3, 2] }, opset: 11 });
    await check('Unsqueeze', 'axes input [2] (opset 13)', { nodes: [n('Unsqueeze', ['x', 'ax'], ['u']), n('Mul', ['u', 'w'], ['r'])], last: 'r', input: [3], intInits: { ax: [2] }, inits: { w: [3, 2] } });
    await check('Squeeze', 'axes attribute [2] (opset 11)', { nodes: [n('Squeeze', ['x'], ['s'], { axes: [2] }), n('Mul', ['s', 'w'], ['r'])], last: 'r', input: [3, 1, 2], inits: { w: [3, 2] }, opset: 11 });
    await check('Squeeze', 'axes input [-1] (opset 13)', { nodes: [n('Squeeze', ['x', 'ax'], ['s']), n('Mul', ['s', 'w'], ['r'])], last: 'r', input: [3, 1], intInits: { ax: [-1] }, inits: { w: [3] } });
    await check('Squeeze', 'no axes (all 1s but the batch)', { nodes: [n('Squeeze', ['x'], ['s']), n('Mul', ['s', 'w'], ['r'])], last: 'r', input: [1, 3, 1], inits: { w: [3] } });
    await check('Transpose', 'perm [0,3,1,2]', { nodes: [n('Transpose', ['x'], ['t'], { perm: [0, 3, 1, 2] }), n('Mul', ['t', 'w'], ['r'])], last: 'r', input: [2, 3, 4], inits: { w: [4, 1, 3] } });
  });

  it('Concat and Split (sizes as input, as attribute, equal parts; an unused part)', async () => {
    await check('Concat', 'axis 1 and -1', { nodes: [n('Mul', ['x', 'w'], ['m']), n('Concat', ['x', 'm'], ['c1'], { axis: 1 }), n('Concat', ['m', 'x'], ['c2'], { axis: 1 }), n('Concat', ['c1', 'c2'], ['r'], { axis: -1 })], last: 'r', input: [2, 3], inits: { w: [1, 3] }, wrt: ['w'] });
    await check('Split', 'sizes input [1,3,2] (opset 13), middle part unused', {
      nodes: [n('Split', ['x', 'sz'], ['p0', 'p1', 'p2'], { axis: 2 }), n('Mul', ['p0', 'p2'], ['q']), n('Concat', ['p0', 'q'], ['r'], { axis: 2 })],
      last: 'r', input: [2, 6], intInits: { sz: [1, 3, 2] } });
    await check('Split', "'split' attribute [2,4] (opset 11)", { nodes: [n('Split', ['x'], ['p0', 'p1'], { axis: -1, split: [2, 4] }), n('Mul', ['p0', 'w'], ['r0']), n('Concat', ['r0', 'p1'], ['r'], { axis: -1 })], last: 'r', input: [2, 6], inits: { w: [2] }, opset: 11 });
    await check('Split', 'equal parts, axis 1', { nodes: [n('Split', ['x'], ['p0', 'p1'], { axis: 1 }), n('Mul', ['p0', 'p1'], ['r'])], last: 'r', input: [4, 3] });
    await check('Split', 'num_outputs 3 of 7 (opset 18)', { nodes: [n('Split', ['x'], ['p0', 'p1', 'p2'], { axis: 1, num_outputs: 3 }), n('Concat', ['p2', 'p0'], ['r'], { axis: 1 })], last: 'r', input: [7], opset: 18 });
  });

  it('Slice: unit steps with negative bounds, step 2, step -1, attributes (opset 9)', async () => {
    await check('Slice', 'starts [1,-3] ends [-1, 100] axes [1,2]', { nodes: [n('Slice', ['x', 'st', 'en', 'ax'], ['r'])], last: 'r', input: [4, 5], intInits: { st: [1, -3], en: [-1, 100], ax: [1, 2] } });
    await check('Slice', 'step 2 on axis 2, step 1 on axis 1', { nodes: [n('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['r'])], last: 'r', input: [4, 5], intInits: { st: [0, 1], en: [3, 5], ax: [1, 2], sp: [1, 2] } });
    await check('Slice', 'step -1 (reversal) on axis 1', { nodes: [n('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['r'])], last: 'r', input: [4, 5], intInits: { st: [-1], en: [-100], ax: [1], sp: [-1] } });
    await check('Slice', 'attributes (opset 9)', { nodes: [n('Slice', ['x'], ['r'], { starts: [1, 0], ends: [3, -1], axes: [1, 2] })], last: 'r', input: [4, 5], opset: 9 });
  });

  it('Pad: constant (positive and negative pads), reflect, edge; attributes (opset 10), axes input (opset 18)', async () => {
    await check('Pad', 'constant 0.5, pads [0,1,-1,0,2,1]', { nodes: [n('Pad', ['x', 'pd', 'cv'], ['r'])], last: 'r', input: [3, 4], intInits: { pd: [0, 1, -1, 0, 2, 1] }, inits: { cv: [[], [0.5]] } });
    await check('Pad', 'reflect', { nodes: [n('Pad', ['x', 'pd'], ['r'], { mode: 'reflect' })], last: 'r', input: [2, 4, 4], intInits: { pd: [0, 0, 2, 1, 0, 0, 1, 3] } });
    await check('Pad', 'edge', { nodes: [n('Pad', ['x', 'pd'], ['r'], { mode: 'edge' })], last: 'r', input: [2, 3, 3], intInits: { pd: [0, 0, 1, 2, 0, 0, 2, 1] } });
    await check('Pad', 'attributes (opset 10)', { nodes: [n('Pad', ['x'], ['r'], { pads: [0, 0, 1, 1, 0, 0, 1, 0], value: { float: 0.3 } })], last: 'r', input: [2, 3, 3], opset: 10 });
    await check('Pad', 'axes input [-1] (opset 18)', { nodes: [n('Pad', ['x', 'pd', '', 'ax'], ['r'])], last: 'r', input: [2, 3, 3], intInits: { pd: [2, 1], ax: [-1] }, opset: 18 });
  });

  it('MaxPool with dilations; AveragePool without padding (more forms in grad.test.ts)', async () => {
    await check('MaxPool', '2x2 dilations 2 stride 1', { nodes: [n('MaxPool', ['x'], ['r'], { kernel_shape: [2, 2], dilations: [2, 2] })], last: 'r', input: [2, 5, 5] });
    await check('AveragePool', '2x2 stride 2', { nodes: [n('AveragePool', ['x'], ['r'], { kernel_shape: [2, 2], strides: [2, 2] })], last: 'r', input: [2, 4, 6] });
  });

  it('Conv: depthwise with dilations and pads, groups of 2 channels', async () => {
    await check('Conv', 'depthwise 3x3, dilations 2, pads 2', { nodes: [n('Conv', ['x', 'W', 'B'], ['r'], { group: 3, dilations: [2, 2], pads: [2, 2, 2, 2] })], last: 'r', input: [3, 5, 5], inits: { W: [3, 1, 3, 3], B: [3] }, wrt: ['W', 'B'] });
    await check('Conv', 'group 2 (2 channels each), stride 2, pads 1', { nodes: [n('Conv', ['x', 'W'], ['r'], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] })], last: 'r', input: [4, 5, 5], inits: { W: [4, 2, 3, 3] }, wrt: ['W'] });
  });

  it('Conv with channels in blocks of 16: the input gradient as a Conv of the flipped, transposed kernel', async () => {
    const plain = n('Conv', ['x', 'W', 'B'], ['r'], { pads: [1, 0, 2, 1], dilations: [1, 2], kernel_shape: [3, 2] });
    const grouped = n('Conv', ['x', 'W'], ['r'], { group: 2, pads: [1, 1, 1, 1] });
    const cases: [string, OpCase][] = [
      ['16 -> 16, 3x2 kernel, dilations [1,2], asymmetric pads', { nodes: [plain], last: 'r', input: [16, 4, 5], inits: { W: [16, 16, 3, 2], B: [16] } }],
      ['group 2 of 16 channels, 3x3 pads 1', { nodes: [grouped], last: 'r', input: [32, 3, 3], inits: { W: [32, 16, 3, 3] } }],
      ['1x1, 32 -> 16', { nodes: [n('Conv', ['x', 'W'], ['r'])], last: 'r', input: [32, 2, 3], inits: { W: [16, 32, 1, 1] } }],
    ];
    for (const [label, c] of cases) {
      // The formulation under test is in use (not the ConvTranspose fallback).
      const g = buildGradientModel(graph(c.nodes, c.input, 'r', c.inits ?? {}, 13), { output: 'r', outputKind: 'logits', objective: 'logit', wrt: ['x'] });
      const ops = (g.graph!.node ?? []).map((x) => x.opType);
      expect(ops).not.toContain('ConvTranspose');
      expect(ops.filter((o) => o === 'Conv')).toHaveLength(2);
      await check('Conv', label, c);
    }
  });

  it('ConvTranspose: stride 2 with pads and output_padding, groups, dilations', async () => {
    await check('ConvTranspose', '3x3 stride 2 pads 1 output_padding 1 (2x upsampling)', {
      nodes: [n('ConvTranspose', ['x', 'W', 'B'], ['r'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })], last: 'r', input: [2, 3, 3], inits: { W: [2, 3, 3, 3], B: [3] }, wrt: ['W', 'B'] });
    await check('ConvTranspose', 'group 2, dilations [2,1], asymmetric pads', {
      nodes: [n('ConvTranspose', ['x', 'W'], ['r'], { group: 2, dilations: [2, 1], pads: [0, 1, 1, 0], strides: [1, 2] })], last: 'r', input: [4, 3, 3], inits: { W: [4, 1, 2, 3] }, wrt: ['W'] });
  });

  it('Dropout (opset 7 attribute form and opset 13 ratio input), Identity, Constant', async () => {
    await check('Dropout', 'ratio attribute (opset 7)', { nodes: [n('Dropout', ['x'], ['r'], { ratio: { float: 0.5 } })], last: 'r', input: [4], opset: 7 });
    await check('Dropout', 'ratio input, mask output (opset 13)', { nodes: [n('Dropout', ['x', 'ratio'], ['r', 'mask'])], last: 'r', input: [4], inits: { ratio: [[], [0.3]] } });
    await check('Identity', '', { nodes: [n('Identity', ['x'], ['r'])], last: 'r', input: [4] });
    const konst = n('Constant', [], ['k']);
    konst.attribute = [{ name: 'value', type: 4, t: floatTensor('k', [0.5, -1.5, 2, 0.25], [4]) }];
    await check('Constant', 'as a Mul operand', { nodes: [konst, n('Mul', ['x', 'k'], ['r'])], last: 'r', input: [4] });
  });

  it('beyond the list, for transformer and ConvNeXt exports: Erf (GELU), LayerNormalization, Gather, Expand, Neg, Exp, Log, Reciprocal, Abs', async () => {
    const x = { input: [3, 4], xRange: [-2, 2] as [number, number] };
    await check('Erf', 'in GELU, x * 0.5 * (1 + erf(x / sqrt 2))', {
      ...x,
      nodes: [n('Div', ['x', 'sqrt2'], ['d']), n('Erf', ['d'], ['e']), n('Add', ['e', 'one'], ['e1']), n('Mul', ['x', 'e1'], ['xe']), n('Mul', ['xe', 'half'], ['r'])],
      last: 'r', inits: { sqrt2: [[], [Math.SQRT2]], one: [[], [1]], half: [[], [0.5]] },
    });
    await check('Erf', 'beyond |x| = 3', { input: [4], xRange: [-4, 4], nodes: [n('Erf', ['x'], ['r'])], last: 'r' });
    await check('Neg', '', { ...x, nodes: [n('Neg', ['x'], ['r'])], last: 'r' });
    await check('Exp', '', { ...x, nodes: [n('Exp', ['x'], ['r'])], last: 'r' });
    await check('Abs', '', { ...x, nodes: [n('Abs', ['x'], ['r'])], last: 'r' });
    const positive = [n('Mul', ['x', 'x'], ['sq']), n('Add', ['sq', 'half'], ['p'])];
    await check('Log', 'of x^2 + 0.5', { ...x, nodes: [...positive, n('Log', ['p'], ['r'])], last: 'r', inits: { half: [[], [0.5]] } });
    await check('Reciprocal', 'of x^2 + 0.5', { ...x, nodes: [...positive, n('Reciprocal', ['p'], ['r'])], last: 'r', inits: { half: [[], [0.5]] } });
    await check('LayerNormalization', 'axis -1, scale and B (opset 17)', { ...x, nodes: [n('LayerNormalization', ['x', 'sc', 'b'], ['r'], { epsilon: { float: 1e-5 } })], last: 'r', inits: { sc: [4], b: [4] }, wrt: ['sc', 'b'], opset: 17 });
    await check('LayerNormalization', 'axis 1 over [3,4], no B (opset 18)', { ...x, nodes: [n('LayerNormalization', ['x', 'sc'], ['r'], { axis: 1 })], last: 'r', inits: { sc: [3, 4] }, wrt: ['sc'], opset: 18 });
    await check('Gather', "axis 1, scalar index (a ViT's class token)", { ...x, nodes: [n('Gather', ['x', 'i0'], ['r'], { axis: 1 })], last: 'r', intInits: { i0: 0 } });
    await check('Gather', 'axis -1, indices [2, 0, 2] (one picked twice)', { ...x, nodes: [n('Gather', ['x', 'ix'], ['r'], { axis: -1 })], last: 'r', intInits: { ix: [2, 0, 2] } });
    await check('Expand', 'x [N,1,4] to [N,3,4]; a weight [1,4] to [3,4]', {
      input: [1, 4],
      nodes: [n('Expand', ['x', 'to'], ['ex']), n('Expand', ['w', 'to2'], ['ew']), n('Mul', ['ex', 'ew'], ['r'])],
      last: 'r', inits: { w: [1, 4] }, intInits: { to: [1, 3, 1], to2: [3, 4] }, wrt: ['w'],
    });
  });

  it('an op without a rule names itself and lists every supported op', () => {
    const model = graph([n('Resize', ['x', '', 'sc'], ['r'], {}, 'upsample'), n('ReduceMean', ['r'], ['z'], { axes: [2, 3], keepdims: 0 })], [3, 4, 4], 'z', { sc: [[4], [1, 1, 2, 2]] });
    let message = '';
    try {
      buildGradientModel(model, { output: 'z', outputKind: 'logits', objective: 'logit', wrt: ['x'] });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/operator Resize \(node upsample\) has no gradient rule/);
    for (const op of ['ReduceMean', 'ReduceSum', 'GlobalMaxPool', 'ConvTranspose', 'HardSwish', 'PRelu', 'Slice', 'Pad', 'Split', 'Gemm', 'MatMul', 'BatchNormalization']) expect(message).toContain(op);
    expect(message).toMatch(/carrying no gradient: .*Constant/);
  });
});
