import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GRAD_WEIGHTS_INPUT, gradOutputName, buildGradientModel } from '../src/main/core/grad/backward';
import { loadMnist } from '../src/main/core/data/mnist';
import { type ModelProto, type TensorProto, decodeModel, encodeModel, floatTensor, makeNode, onnx, valueInfo } from '../src/main/core/models/onnx-graph';
import { prepareModel, readModelFile } from '../src/main/core/models/prepare';
import { makeBatchDynamic, rewriteWinogradConv } from '../src/main/core/models/rewrites';
import { HAS_SHARED, MODELS, SKIP_SHARED_REASON, rng } from './helpers';

/**
 * The Winograd F(4x4, 5x5) rewrite of 5x5 convolutions (models/rewrites.ts) against the Conv it
 * replaces: same values within float32 rounding, on real LeNet activations and on odd shapes, and
 * convolutions it must not touch left as they are.
 */

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'extended' };

async function run(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeModel(model), opts);
  try {
    return (await s.run(feeds))[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

/** Largest difference over the reference's largest magnitude. */
function relMax(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let d = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return d / scale;
}

/** A graph output of any shape (the rank-0 shape valueInfo(name, []) would declare makes onnxruntime warn). */
const anyOutput = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } });
const copy = (m: ModelProto) => decodeModel(encodeModel(m));
const convCount = (m: ModelProto) => (m.graph?.node ?? []).filter((n) => n.opType === 'Conv').length;

function randomTensor(name: string, dims: number[], r: () => number, scale = 1): TensorProto {
  return floatTensor(name, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (r() * 2 - 1) * scale), dims);
}

/** x [N, C, H, W] -> Relu -> Conv 5x5 (attrs) -> Conv 5x5 ... with random weights and biases. */
function chain(c: number, h: number, w: number, layers: { k: number; attrs?: Record<string, number | number[] | string>; bias?: boolean; kernel?: number; group?: number }[], seed = 1, spatial: (number | string)[] = [h, w]) {
  const r = rng(seed);
  const nodes = [makeNode('Relu', ['x'], ['r'])];
  const inits: TensorProto[] = [];
  let prev = 'r';
  let cin = c;
  layers.forEach((l, i) => {
    const k = l.kernel ?? 5;
    const g = l.group ?? 1;
    inits.push(randomTensor(`W${i}`, [l.k, cin / g, k, k], r, 0.3));
    if (l.bias !== false) inits.push(randomTensor(`b${i}`, [l.k], r));
    nodes.push(makeNode('Conv', [prev, `W${i}`, ...(l.bias !== false ? [`b${i}`] : [])], [`y${i}`], { ...(l.attrs ?? {}), ...(g > 1 ? { group: g } : {}) }));
    prev = `y${i}`;
    cin = l.k;
  });
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'g', node: nodes, input: [valueInfo('x', ['N', c, ...spatial])], output: [anyOutput(prev)], initializer: inits },
  });
}

describe('Winograd F(4x4, 5x5) for 5x5 convolutions (models/rewrites.ts)', () => {
  it('equals the plain Conv within float32 rounding on odd shapes (non-square, channels not in blocks, two in a row, with and without bias)', async () => {
    const model = chain(9, 16, 12, [{ k: 13 }, { k: 11, bias: false }]); // 16x12 -> 12x8 -> 8x4
    model.graph!.initializer!.push(floatTensor('unrelated_unused', [1], [1]));
    const wino = copy(model);
    expect(rewriteWinogradConv(wino).rewritten).toBe(2);
    expect(convCount(wino)).toBe(0);
    // The replaced weights go; an initializer the rewrite did not touch stays (onnxruntime warns about it).
    const names = wino.graph!.initializer!.map((t) => t.name);
    expect(names).toContain('unrelated_unused');
    expect(names).not.toContain('W0');
    const r = rng(5);
    const n = 3;
    const x = new ort.Tensor('float32', Float32Array.from({ length: n * 9 * 16 * 12 }, () => r() * 2 - 1), [n, 9, 16, 12]);
    const want = await run(model, { x });
    const got = await run(wino, { x });
    expect(want.length).toBe(n * 11 * 8 * 4);
    const err = relMax(got, want);
    expect(err).toBeLessThan(1e-5);
    expect(err).toBeGreaterThan(0); // a different computation, not the same kernel
  });

  it('leaves alone the convolutions it does not speed up or cannot do', () => {
    const cases: [string, ModelProto][] = [
      ['3x3 kernel', chain(16, 12, 12, [{ k: 16, kernel: 3 }])],
      ['stride 2', chain(16, 13, 13, [{ k: 16, attrs: { strides: [2, 2] } }])],
      ['dilation 2', chain(16, 16, 16, [{ k: 16, attrs: { dilations: [2, 2] } }])],
      ['padded', chain(16, 12, 12, [{ k: 16, attrs: { pads: [2, 2, 2, 2] } }])],
      ['SAME padding', chain(16, 12, 12, [{ k: 16, attrs: { auto_pad: 'SAME_UPPER' } }])],
      ['grouped', chain(16, 12, 12, [{ k: 16, group: 2 }])],
      ['output side not a multiple of 4', chain(16, 15, 12, [{ k: 16 }])],
      ['one input channel (LeNet conv1)', chain(1, 28, 28, [{ k: 20 }])],
      ['spatial size unknown', chain(16, 12, 12, [{ k: 16 }], 1, ['H', 'W'])],
    ];
    for (const [what, model] of cases) {
      const before = encodeModel(model);
      expect(rewriteWinogradConv(model).rewritten, what).toBe(0);
      expect(Buffer.from(encodeModel(model)).equals(Buffer.from(before)), what).toBe(true);
    }
  });

  it.skipIf(!HAS_SHARED)(`touches no convolution of SqueezeNet or MobileNet v2 in prepareModel${HAS_SHARED ? '' : ` (skipped: ${SKIP_SHARED_REASON})`}`, () => {
    for (const path of [MODELS.squeezenet, MODELS.mobilenet]) {
      const model = decodeModel(readModelFile(path));
      const convs = convCount(model);
      const { notes } = prepareModel(model);
      expect(notes.join('; ')).not.toMatch(/Winograd/);
      expect(convCount(model)).toBe(convs);
    }
  });

  describe.skipIf(!HAS_SHARED)(`on Caffe LeNet${HAS_SHARED ? '' : ` (skipped: ${SKIP_SHARED_REASON})`}`, () => {
    const mnist = loadMnist('test');
    const n = 64;
    const pixels = Float32Array.from(mnist.images.subarray(0, n * 784), (p) => p / 256);
    const feeds = (m: ModelProto) => ({ [m.graph!.input![0].name!]: new ort.Tensor('float32', pixels, [n, 1, 28, 28]) });

    it('rewrites conv2 (20 -> 50) and not conv1; conv2 on real digits equals the Conv within float32 rounding', async () => {
      const model = decodeModel(readModelFile(MODELS.lenet));
      makeBatchDynamic(model);
      const conv2 = model.graph!.node!.filter((x) => x.opType === 'Conv')[1];
      // Both graphs end at conv2's output.
      model.graph!.output = [anyOutput(conv2.output![0])];
      const wino = copy(model);
      expect(rewriteWinogradConv(wino).rewritten).toBe(1);
      expect(convCount(wino)).toBe(1);
      const want = await run(model, feeds(model));
      const got = await run(wino, feeds(wino));
      expect(want.length).toBe(n * 50 * 8 * 8);
      const err = relMax(got, want);
      console.log(`LeNet conv2 on ${n} MNIST digits: Winograd max |difference| / max |output| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-5);
    });

    it('prepareModel rewrites it by default (option winogradConv) and the probabilities agree to 5 digits', async () => {
      const plain = decodeModel(readModelFile(MODELS.lenet));
      const wino = copy(plain);
      expect(prepareModel(plain, { winogradConv: false }).notes.join('; ')).not.toMatch(/Winograd/);
      expect(prepareModel(wino).notes.join('; ')).toMatch(/1 5x5 Conv rewritten in Winograd form/);
      const want = await run(plain, feeds(plain));
      const got = await run(wino, feeds(wino));
      let d = 0;
      for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
      console.log(`LeNet probabilities on ${n} MNIST digits: Winograd max |difference| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(5e-6);
    });
    // On digits, MaxPool sees exact ties (the blank background gives every window the same value)
    // that the two computations' rounding breaks differently, routing the gradient to another,
    // equally valid, position: compared on noise images, where windows have no ties.
    it('the gradient builder differentiates the rewritten graph: its input gradient equals the plain graph\'s within float32 rounding', async () => {
      const r = rng(9);
      const noise = Float32Array.from({ length: n * 784 }, () => r());
      const grad = async (winogradConv: boolean) => {
        const model = decodeModel(readModelFile(MODELS.lenet));
        prepareModel(model, { winogradConv });
        const g = buildGradientModel(model, { output: 'prob', outputKind: 'probabilities', objective: 'log-probability', wrt: ['data'] });
        const w = new Float32Array(n * 10);
        for (let i = 0; i < n; i++) w[i * 10 + ((i * 3) % 10)] = 1;
        const s = await ort.InferenceSession.create(encodeModel(g), opts);
        try {
          const out = await s.run({ data: new ort.Tensor('float32', noise, [n, 1, 28, 28]), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [n, 10]) });
          return out[gradOutputName('data')].data as Float32Array;
        } finally {
          await s.release();
        }
      };
      const err = relMax(await grad(true), await grad(false));
      console.log(`LeNet input gradient on ${n} noise images: Winograd max |difference| / max |gradient| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-5);
    });
  });
});
