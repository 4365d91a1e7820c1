import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Manifest, ModelInfo } from '../src/shared/manifest';
import { Classifier } from '../src/main/core/models/classifier';
import { decodeModel, encodeModel, floatTensor, makeNode, onnx, valueInfo } from '../src/main/core/models/onnx-graph';
import { readModelFile } from '../src/main/core/models/prepare';
import { rewriteLrn } from '../src/main/core/models/rewrites';
import { HAS_SHARED, MODELS, rng } from './helpers';

const imagenetInput = (name: string, size: number, order: 'RGB' | 'BGR', scale: number, mean: number[]) => ({
  name,
  layout: 'NCHW' as const,
  height: size,
  width: size,
  channels: 3 as const,
  channelOrder: order,
  scale,
  mean,
  std: [1],
  resize: 'crop' as const,
  resizeTo: 256,
});

function info(path: string, manifest: Omit<Manifest, 'name' | 'file' | 'labels'>): ModelInfo {
  const m = { ...manifest, name: 'm', file: path, labels: 'labels.txt' } as Manifest;
  return { manifest: m, path, labels: Array.from({ length: m.classes }, (_, i) => String(i)), source: 'user' };
}

const cases = [
  {
    name: 'Caffe LeNet',
    info: () =>
      info(MODELS.lenet, {
        input: { name: 'data', layout: 'NCHW', height: 28, width: 28, channels: 1, channelOrder: 'RGB', scale: 1 / 256, mean: [0], std: [1], resize: 'stretch' },
        output: { name: 'prob', kind: 'probabilities' },
        labelOffset: 0,
        classes: 10,
      }),
    hw: 28,
    c: 1 as const,
  },
  {
    name: 'SqueezeNet 1.0 (fixed batch 1 in the file)',
    info: () => info(MODELS.squeezenet, { input: imagenetInput('data', 227, 'BGR', 1, [104, 117, 123]), output: { name: 'logits', kind: 'logits' }, labelOffset: 0, classes: 1000 }),
    hw: 227,
    c: 3 as const,
  },
  {
    name: 'MobileNet v2 (fixed batch 1, label offset 1)',
    info: () => info(MODELS.mobilenet, { input: imagenetInput('t0', 224, 'RGB', 1 / 127.5, [1]), output: { name: 't173', kind: 'probabilities' }, labelOffset: 1, classes: 1000 }),
    hw: 224,
    c: 3 as const,
  },
];

describe.skipIf(!HAS_SHARED)('batch rewriting: one batch of 37 equals 37 batches of one', () => {
  for (const tc of cases) {
    it(tc.name, async () => {
      const n = 37;
      const rand = rng(7);
      const per = tc.hw * tc.hw * tc.c;
      const data = new Uint8Array(n * per);
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
      const c = await Classifier.open(tc.info(), { workers: 2, threadsPerWorker: 1 });
      try {
        const batched = await c.classify({ n, height: tc.hw, width: tc.hw, channels: tc.c, data: data.slice() });
        expect(batched.length).toBe(n * c.classes);
        let maxDiff = 0;
        for (let i = 0; i < n; i++) {
          const one = await c.classify({ n: 1, height: tc.hw, width: tc.hw, channels: tc.c, data: data.slice(i * per, (i + 1) * per) });
          for (let k = 0; k < c.classes; k++) maxDiff = Math.max(maxDiff, Math.abs(one[k] - batched[i * c.classes + k]));
        }
        expect(maxDiff).toBeLessThan(1e-5);
        // Rows are probability distributions (softmax applied to logits; background dropped for MobileNet).
        const row0 = batched.subarray(0, c.classes).reduce((a, b) => a + b, 0);
        expect(row0).toBeGreaterThan(tc.name.includes('MobileNet') ? 0.9 : 0.9999);
        expect(row0).toBeLessThan(1.0001);
      } finally {
        await c.close();
      }
    });
  }

  it('the file on disk keeps batch 1: the rewrite happens on load only', () => {
    const m = decodeModel(readModelFile(MODELS.squeezenet));
    expect(m.graph!.input![0].type!.tensorType!.shape!.dim![0].dimValue?.toString()).toBe('1');
  });
});

describe('LRN rewritten through AveragePool', () => {
  function lrnModel(size: number, channels: number) {
    const g = onnx.GraphProto.create({
      name: 'lrn',
      node: [makeNode('LRN', ['x'], ['y'], { size, alpha: { float: 1e-4 }, beta: { float: 0.75 }, bias: { float: 1 } })],
      input: [valueInfo('x', ['N', channels, 13, 11])],
      output: [valueInfo('y', ['N', channels, 13, 11])],
    });
    return onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph: g });
  }

  for (const [size, channels] of [
    [5, 96],
    [7, 9],
    [3, 2],
  ]) {
    it(`matches the built-in LRN to 1e-5 (size ${size}, ${channels} channels)`, async () => {
      const rand = rng(size * 100 + channels);
      const n = 3;
      const x = new Float32Array(n * channels * 13 * 11).map(() => (rand() - 0.5) * 200);
      const run = async (bytes: Uint8Array) => {
        const s = await ort.InferenceSession.create(bytes);
        const out = await s.run({ x: new ort.Tensor('float32', x, [n, channels, 13, 11]) });
        await s.release();
        return out.y.data as Float32Array;
      };
      const ref = await run(encodeModel(lrnModel(size, channels)));
      const rewrittenModel = lrnModel(size, channels);
      expect(rewriteLrn(rewrittenModel).rewritten).toBe(1);
      expect(rewrittenModel.graph!.node!.some((nd) => nd.opType === 'LRN')).toBe(false);
      const fast = await run(encodeModel(rewrittenModel));
      let maxRel = 0;
      for (let i = 0; i < ref.length; i++) maxRel = Math.max(maxRel, Math.abs(fast[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      expect(maxRel).toBeLessThan(1e-5);
    });
  }

  it('leaves graphs without LRN alone', () => {
    const g = onnx.GraphProto.create({ node: [makeNode('Relu', ['x'], ['y'])], input: [valueInfo('x', ['N', 3])], output: [valueInfo('y', ['N', 3])], initializer: [floatTensor('w', [1], [1])] });
    const m = onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph: g });
    expect(rewriteLrn(m).rewritten).toBe(0);
  });
});
