import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Manifest, ModelInfo } from '../src/shared/manifest';
import { GradientPool, gradientGraph } from '../src/main/core/ascent/gradient-pool';
import { GRAD_WEIGHTS_INPUT, PROBS_OUTPUT, gradOutputName } from '../src/main/core/grad/backward';
import { Classifier } from '../src/main/core/models/classifier';
import { chooseGraphLevel } from '../src/main/core/models/graph-level';
import { decodeModel, floatTensor, makeNode, onnx, valueInfo } from '../src/main/core/models/onnx-graph';
import { prepareModelBytes, readModelFile } from '../src/main/core/models/prepare';
import { preprocess } from '../src/main/core/models/preprocess';
import { sessionOptions } from '../src/main/core/models/provider';
import { HAS_SHARED, MODELS, SKIP_SHARED_REASON, rng } from './helpers';

/** A chain of Convs with the given weight shapes (no need to run it: the rule reads weights only). */
function convs(weights: number[][], group = 1) {
  const nodes = weights.map((_, i) => makeNode('Conv', [i === 0 ? 'x' : `c${i - 1}`, `W${i}`], [`c${i}`], { group }));
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: nodes,
      input: [valueInfo('x', ['N', (weights[0]?.[1] ?? 1) * group, 8, 8])],
      output: [valueInfo(weights.length ? `c${weights.length - 1}` : 'x', [])],
      initializer: weights.map((w, i) => floatTensor(`W${i}`, new Float32Array(w.reduce((a, b) => a * b, 1)), w)),
    },
  });
}

describe('graph optimisation level per model (models/graph-level.ts)', () => {
  it('keeps the blocked layout for channels in blocks of 16 and leaves it where padding would double the work', () => {
    expect(chooseGraphLevel(convs([[20, 1, 5, 5], [50, 20, 5, 5]])).level).toBe('extended'); // LeNet's widths
    expect(chooseGraphLevel(convs([[64, 3, 7, 7], [16, 64, 1, 1], [64, 16, 3, 3]])).level).toBe('all');
    expect(chooseGraphLevel(convs([[32, 1, 3, 3]], 32)).level).toBe('all'); // depthwise, 32 channels
    expect(chooseGraphLevel(convs([])).level).toBe('all');
  });

  it.skipIf(!HAS_SHARED)(`chooses 'extended' for Caffe LeNet and 'all' for SqueezeNet${HAS_SHARED ? '' : ` (skipped: ${SKIP_SHARED_REASON})`}`, () => {
    expect(chooseGraphLevel(decodeModel(readModelFile(MODELS.lenet))).level).toBe('extended');
    expect(chooseGraphLevel(decodeModel(readModelFile(MODELS.squeezenet))).level).toBe('all');
  });
});

const lenet = (): ModelInfo => {
  const manifest = {
    name: 'lenet',
    file: MODELS.lenet,
    labels: 'labels.txt',
    input: { name: 'data', layout: 'NCHW', height: 28, width: 28, channels: 1, channelOrder: 'RGB', scale: 1 / 256, mean: [0], std: [1], resize: 'stretch' },
    output: { name: 'prob', kind: 'probabilities' },
    labelOffset: 0,
    classes: 10,
  } as Manifest;
  return { manifest, path: MODELS.lenet, labels: Array.from({ length: 10 }, (_, i) => String(i)), source: 'user' };
};

describe.skipIf(!HAS_SHARED)('the services at their chosen level give what a plain default session gives', () => {
  const n = 37;
  const rand = rng(11);
  const pixels = new Uint8Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(rand() * 256);

  it('LeNet classification service (level extended, 2 workers) = one session at onnxruntime defaults', async () => {
    const info = lenet();
    const c = await Classifier.open(info, { workers: 2, threadsPerWorker: 1 });
    const s = await ort.InferenceSession.create(prepareModelBytes(info.path).bytes, sessionOptions('cpu', 1, 'all'));
    try {
      const got = await c.classify({ n, height: 28, width: 28, channels: 1, data: pixels.slice() });
      const x = preprocess({ n, height: 28, width: 28, channels: 1, data: pixels }, info.manifest.input);
      const want = (await s.run({ data: new ort.Tensor('float32', x, [n, 1, 28, 28]) })).prob.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      expect(maxDiff).toBeLessThan(1e-6);
    } finally {
      await c.close();
      await s.release();
    }
  });

  it('calls in flight at once each get their own answer (job buffers are reused), and the caller keeps its pixels', async () => {
    const info = lenet();
    // Parts of 8: many jobs, so buffers come back and carry later jobs while others are in flight.
    const c = await Classifier.open(info, { workers: 2, threadsPerWorker: 1, maxBatch: 8 });
    try {
      const batches = [37, 5, 30, 1, 20, 37].map((m, k) => ({ n: m, height: 28, width: 28, channels: 1 as const, data: pixels.subarray(0, m * 784).map((v) => (v + 31 * k) % 256) }));
      const copies = batches.map((b) => b.data.slice());
      const alone: Float32Array[] = [];
      for (const b of batches) alone.push(await c.classify(b));
      const together = await Promise.all([...batches, ...batches].map((b) => c.classify(b)));
      together.forEach((got, i) => expect(Array.from(got)).toEqual(Array.from(alone[i % batches.length])));
      batches.forEach((b, i) => expect(b.data).toEqual(copies[i]));
      // different images, different answers: a mix-up of buffers would not go unseen
      expect(Array.from(alone[0])).not.toEqual(Array.from(alone[5]));
      // Tensors in the model's layout: a larger spare buffer carries a smaller job's view.
      const x = preprocess({ n: 8, height: 28, width: 28, channels: 1, data: batches[0].data.subarray(0, 8 * 784) }, info.manifest.input);
      await c.classifyTensor(8, x);
      // A short batch is refused, not padded with a spare buffer's old bytes.
      await expect(c.classify({ n: 9, height: 28, width: 28, channels: 1, data: batches[0].data.subarray(0, 8 * 784) })).rejects.toThrow(/fewer than its images need/);
      expect(Array.from(await c.classifyTensor(5, x.subarray(0, 5 * 784)))).toEqual(Array.from(alone[0].subarray(0, 50)));
    } finally {
      await c.close();
    }
  });

  it('LeNet gradient service (batch split over 2 workers) = one session of the same gradient graph', async () => {
    const info = lenet();
    const pool = await GradientPool.open(info, { objective: 'log-probability', workers: 2 });
    const { bytes } = gradientGraph(info, 'log-probability');
    const s = await ort.InferenceSession.create(bytes, sessionOptions('cpu', 1, 'all'));
    try {
      const x = preprocess({ n, height: 28, width: 28, channels: 1, data: pixels }, info.manifest.input);
      const targets = Array.from({ length: n }, (_, i) => (i * 3) % 10);
      const got = await pool.gradient(n, x.slice(), targets);
      const w = new Float32Array(n * 10);
      targets.forEach((t, i) => (w[i * 10 + t] = 1));
      const out = await s.run({ data: new ort.Tensor('float32', x, [n, 1, 28, 28]), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [n, 10]) });
      const wantG = out[gradOutputName('data')].data as Float32Array;
      const wantP = out[PROBS_OUTPUT].data as Float32Array;
      expect(got.grad.length).toBe(wantG.length);
      expect(got.probs.length).toBe(wantP.length);
      const scale = Math.max(...wantG.map(Math.abs));
      let maxDiff = 0;
      for (let i = 0; i < wantG.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.grad[i] - wantG[i]));
      expect(maxDiff / scale).toBeLessThan(1e-5);
      // Another kernel (im2col rather than blocked) sums in another order: equal to float rounding.
      for (let i = 0; i < wantP.length; i++) expect(got.probs[i]).toBeCloseTo(wantP[i], 5);
    } finally {
      await pool.close();
      await s.release();
    }
  });
});
