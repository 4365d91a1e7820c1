import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientModel, gradOutputName, GRAD_WEIGHTS_INPUT, OBJECTIVE_OUTPUT } from '../src/main/core/grad/backward';
import { loadMnist } from '../src/main/core/data/mnist';
import { encodeModel } from '../src/main/core/models/onnx-graph';
import { F4x5, kernelTransform, tiledBT, winogradMatrices } from '../src/main/core/models/winograd';
import { buildLenet, initLenetWeights, lenetParams, LENET_OUTPUT, type LenetWeights } from '../src/main/core/train/lenet';
import { buildLenetTrainGraph, trainGradName, TRAIN_LOSS, TRAIN_WEIGHTS } from '../src/main/core/train/train-graph';

/**
 * The hand-written training graph (conv2 in Winograd form, conv1 by pooling phase, pooling masks) against
 * the generic gradient graph of the same LeNet (core/grad, whose rules the finite-difference tests
 * check): same loss, same gradient of every weight, on real digits, on blank images (every pooling
 * window a tie: the gradient must go to one element, as MaxPool's indices say) and for 11 classes.
 */

const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const, logSeverityLevel: 3 as const };

async function both(n: number, classes: number, weights: LenetWeights, x: Float32Array, labels: number[]) {
  const params = lenetParams(classes);
  const w = new Float32Array(n * classes);
  labels.forEach((l, i) => (w[i * classes + l] = -1 / 64));
  const weightFeeds: Record<string, ort.Tensor> = {};
  for (const p of params) weightFeeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!, p.dims);

  const generic = buildGradientModel(buildLenet(weights, { classes, batch: n }), { output: LENET_OUTPUT, outputKind: 'probabilities', objective: 'log-probability', wrt: params.map((p) => p.name) });
  const wrt = new Set(params.map((p) => p.name));
  generic.graph!.initializer = (generic.graph!.initializer ?? []).filter((t) => !wrt.has(t.name ?? ''));
  const ref = await ort.InferenceSession.create(encodeModel(generic), options);
  const r = await ref.run({ ...weightFeeds, data: new ort.Tensor('float32', x, [n, 1, 28, 28]), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [n, classes]) });
  const ours = await ort.InferenceSession.create(buildLenetTrainGraph(n, classes), options);
  const o = await ours.run({ ...weightFeeds, data: new ort.Tensor('float32', x, [n, 784]), [TRAIN_WEIGHTS]: new ort.Tensor('float32', w, [n, classes]) });
  await ref.release();
  await ours.release();

  const refLoss = (r[OBJECTIVE_OUTPUT].data as Float32Array).reduce((a, v) => a + v, 0);
  expect((o[TRAIN_LOSS].data as Float32Array)[0]).toBeCloseTo(refLoss, 5);
  for (const p of params) {
    const a = r[gradOutputName(p.name)].data as Float32Array;
    const b = o[trainGradName(p.name)].data as Float32Array;
    expect(b.length, p.name).toBe(a.length);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]));
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    expect(scale, `${p.name} has a gradient`).toBeGreaterThan(0);
    expect(diff / scale, `${p.name}: max difference relative to the largest element`).toBeLessThan(2e-5);
  }
}

describe('the LeNet training graph', () => {
  const mnist = loadMnist('train');
  const digits = (from: number, n: number) => Float32Array.from(mnist.images.subarray(from * 784, (from + n) * 784), (p) => p / 256);
  const labels = (from: number, n: number) => Array.from(mnist.labels.subarray(from, from + n));

  it('gives the generic gradient graph\'s loss and weight gradients on real digits (a worker\'s share: 32 images)', async () => {
    await both(32, 10, initLenetWeights(10, 1), digits(0, 32), labels(0, 32));
  });

  it('gives each pooling window\'s gradient to one element where all four tie (blank and constant images)', async () => {
    const n = 5;
    const x = new Float32Array(n * 784);
    x.fill(0.5, 784, 2 * 784); // one constant image; the others blank
    x.set(digits(100, 3).subarray(0, 3 * 784), 2 * 784);
    // Biases make the blank images' maps constant and nonzero: every window is a 4-way tie.
    const w = initLenetWeights(10, 3);
    w.get('conv1_b')!.fill(0.1);
    w.get('conv2_b')!.fill(-0.05);
    await both(n, 10, w, x, [1, 7, ...labels(100, 3)]);
  });

  it('handles 11 classes (the retraining experiment) and an odd share of a batch', async () => {
    await both(7, 11, initLenetWeights(11, 5), digits(200, 7), [10, ...labels(201, 6)]);
  });

  it('computes a 12x12, 5x5 correlation exactly (float64) with the Winograd F(4x4, 5x5) matrices it builds, tiles and overlaps included', () => {
    // The graph's path for one channel: V = Bt X Bt^T (Bt cuts and transforms both 8-pixel
    // tiles of each side), U = G g G^T, Y = A^T (U * V) A per tile pair.
    const { a, m, r, AT } = F4x5;
    const bt = tiledBT(F4x5, 2); // [(xi, t)][12]
    const kg = kernelTransform(F4x5); // [(eta, xi)][(ky, kx)]
    const rand = (k: number) => Array.from({ length: k }, (_, i) => Math.sin(i * 12.9898 + k) * 2);
    const x = rand(144);
    const k = rand(25);
    const v = (eta: number, ty: number, xi: number, tx: number) => {
      let s = 0;
      for (let y = 0; y < 12; y++) for (let c = 0; c < 12; c++) s += bt[(eta * 2 + ty) * 12 + y] * bt[(xi * 2 + tx) * 12 + c] * x[y * 12 + c];
      return s;
    };
    const u = (eta: number, xi: number) => k.reduce((s, kv, q) => s + kg[(eta * a + xi) * r * r + q] * kv, 0);
    for (let y = 0; y < 8; y++) {
      for (let c = 0; c < 8; c++) {
        const [ty, oy, tx, ox] = [Math.floor(y / m), y % m, Math.floor(c / m), c % m];
        let w = 0;
        for (let eta = 0; eta < a; eta++) for (let xi = 0; xi < a; xi++) w += AT[oy][eta] * AT[ox][xi] * u(eta, xi) * v(eta, ty, xi, tx);
        let direct = 0;
        for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) direct += x[(y + ky) * 12 + c + kx] * k[ky * 5 + kx];
        expect(Math.abs(w - direct), `output (${y}, ${c})`).toBeLessThan(1e-10);
      }
    }
  });

  it('refuses Winograd points that cannot make the transform', () => {
    expect(() => winogradMatrices(4, 5, [0, 1, -1, 2, -2, 0.5, 0.5])).toThrow(/distinct/);
    expect(() => winogradMatrices(4, 5, [0, 1])).toThrow(/7 distinct/);
  });
});
