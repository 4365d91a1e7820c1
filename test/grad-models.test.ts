import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type ModelProto, decodeModel, encodeModel } from '../src/main/core/models/onnx-graph';
import { makeBatchDynamic } from '../src/main/core/models/rewrites';
import { type GradientGraphOptions, GRAD_WEIGHTS_INPUT, OBJECTIVE_OUTPUT, buildGradientModel, gradOutputName } from '../src/main/core/grad/backward';
import { type T64, evaluate } from '../src/main/core/grad/reference';
import { relErr, rng } from './helpers';

/**
 * Gradient graphs of the real classifiers in ../shared/models against float64 central finite
 * differences (reference forward: the float64 interpreter, as onnxruntime has no float64 Conv).
 * Steps are tiny (1e-6 to 1e-8 of the input range) because these nets are piecewise linear: a larger step
 * crosses thousands of ReLU/Clip kinks in a deep net and the difference quotient drifts by ~1%.
 * Float64 keeps the rounding error of such steps near 1e-9.
 */
const shared = path.resolve('../shared/models');
const present = fs.existsSync(shared);
if (!present) console.log(`skipping real-model gradient checks: ${shared} is absent`);

const rand = rng(7);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

function load(rel: string): ModelProto {
  const m = decodeModel(fs.readFileSync(path.join(shared, rel)));
  makeBatchDynamic(m);
  return m;
}

/** Per-sample objectives sum_k W f, in float64, from probabilities p (or logits for 'logit'). */
function objectives(p: T64, W: Float32Array, K: number, kind: GradientGraphOptions['objective']): Float64Array {
  const N = p.data.length / K;
  const J = new Float64Array(N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const v = p.data[n * K + k];
    J[n] += W[k % (W.length)] * (kind === 'log-probability' ? Math.log(v) : v);
  }
  return J;
}

async function gradients(model: ModelProto, opts: GradientGraphOptions, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(encodeModel(buildGradientModel(model, opts)), { graphOptimizationLevel: 'all' });
  const out = await s.run(feeds);
  await s.release();
  return out;
}

const onehot = (K: number, k: number, scale = 1) => Float32Array.from({ length: K }, (_, i) => (i === k ? scale : 0));

describe.skipIf(!present)('gradients of the real models vs float64 finite differences', { timeout: 300_000 }, () => {
  it('LeNet: input gradient over all 784 pixels', async () => {
    const m = load('lenet-caffe/lenet-caffe.onnx');
    const x = uniform(784, 0, 255 / 256);
    const K = 10;
    const W = onehot(K, 3);
    const out = await gradients(m, { output: 'prob', outputKind: 'probabilities', objective: 'probability', wrt: ['data'] }, {
      data: new ort.Tensor('float32', x, [1, 1, 28, 28]),
      [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', W, [1, K]),
    });
    const g = out[gradOutputName('data')].data as Float32Array;
    // All 784*2 perturbed images, evaluated in chunks by the float64 reference.
    const h = 1e-5;
    const fd = new Float64Array(784);
    const chunk = 196;
    for (let start = 0; start < 784; start += chunk) {
      const batch = new Float64Array(chunk * 2 * 784);
      for (let j = 0; j < chunk; j++)
        for (const [side, sign] of [[0, 1], [1, -1]]) {
          const img = batch.subarray((2 * j + side) * 784, (2 * j + side + 1) * 784);
          img.set(x);
          img[start + j] += sign * h;
        }
      const p = evaluate(m, { data: { data: batch, dims: [chunk * 2, 1, 28, 28] } }, ['prob']).prob;
      const J = objectives(p, W, K, 'probability');
      for (let j = 0; j < chunk; j++) fd[start + j] = (J[2 * j] - J[2 * j + 1]) / (2 * h);
    }
    const err = relErr(g, fd);
    console.log(`LeNet input gradient (784 pixels, probability): relative error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('LeNet: gradients wrt all conv/fc weights and biases (cross-entropy), on sampled weights', async () => {
    const m = load('lenet-caffe/lenet-caffe.onnx');
    const weights = ['conv1_W', 'conv1_b', 'conv2_W', 'conv2_b', 'ip1_W', 'ip1_b', 'ip2_W', 'ip2_b'];
    const N = 4;
    const K = 10;
    const x = uniform(N * 784, 0, 255 / 256);
    const labels = [1, 4, 7, 9];
    // The trainer's cross-entropy: log-probability with W = -onehot(label)/batch.
    const W = new Float32Array(N * K);
    labels.forEach((l, n) => (W[n * K + l] = -1 / N));
    const out = await gradients(m, { output: 'prob', outputKind: 'probabilities', objective: 'log-probability', wrt: weights }, {
      data: new ort.Tensor('float32', x, [N, 1, 28, 28]),
      [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', W, [N, K]),
    });
    const base = evaluate(m, { data: { data: Float64Array.from(x), dims: [N, 1, 28, 28] } }, weights);
    const loss = (overrides: Record<string, T64>) => {
      const p = evaluate(m, { data: { data: Float64Array.from(x), dims: [N, 1, 28, 28] }, ...overrides }, ['prob']).prob;
      let J = 0;
      labels.forEach((l, n) => (J -= Math.log(p.data[n * K + l]) / N));
      return J;
    };
    const errors: Record<string, number> = {};
    for (const name of weights) {
      const g = out[gradOutputName(name)].data as Float32Array;
      // Six random elements plus the six with the largest gradient.
      const byMag = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      const picks = [...new Set([...byMag.slice(0, 6), ...Array.from({ length: 6 }, () => Math.floor(rand() * g.length))])];
      const h = 1e-6;
      const fd = picks.map((i) => {
        const at = (d: number) => {
          const w = Float64Array.from(base[name].data);
          w[i] += d;
          return loss({ [name]: { data: w, dims: base[name].dims } });
        };
        return (at(h) - at(-h)) / (2 * h);
      });
      errors[name] = relErr(picks.map((i) => g[i]), fd);
    }
    console.log(`LeNet weight gradients (12 sampled elements each, cross-entropy): relative errors ${JSON.stringify(errors)}`);
    for (const e of Object.values(errors)) expect(e).toBeLessThan(1e-4);
  });

  for (const spec of [
    { name: 'SqueezeNet 1.0', file: 'squeezenet1.0/squeezenet1.0.onnx', input: 'data', output: 'prob', dims: [3, 227, 227], K: 1000, objective: 'log-probability' as const, h: 1e-6,
      sample: (n: number) => { const x = uniform(n, 0, 255); const mean = [104, 117, 123]; return x.map((v, i) => v - mean[Math.floor(i / (227 * 227)) % 3]); } },
    { name: 'MobileNet v2', file: 'mobilenet-v2/mobilenet-v2.onnx', input: 't0', output: 't173', dims: [3, 224, 224], K: 1001, objective: 'probability' as const, h: 1e-8,
      sample: (n: number) => uniform(n, -1, 1) },
  ]) {
    it(`${spec.name}: directional derivatives along random directions`, async () => {
      const m = load(spec.file);
      const size = spec.dims.reduce((a, b) => a * b, 1);
      const x = spec.sample(size);
      const target = 7;
      const W = onehot(spec.K, target);
      const out = await gradients(m, { output: spec.output, outputKind: 'probabilities', objective: spec.objective, wrt: [spec.input] }, {
        [spec.input]: new ort.Tensor('float32', x, [1, ...spec.dims]),
        [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', W, [1, spec.K]),
      });
      const g = out[gradOutputName(spec.input)].data as Float32Array;
      // Central differences at h and 10h for each direction: where they disagree, a ReLU/Clip kink
      // lies within reach of the step, the point is not smooth at that scale, and the direction is
      // not a fair test (reported, skipped; at least one direction must remain).
      const dirs = 3;
      const steps = [spec.h, 10 * spec.h];
      const batch = new Float64Array(2 * steps.length * dirs * size);
      const dots: number[] = [];
      for (let d = 0; d < dirs; d++) {
        const v = uniform(size, -1, 1);
        let dot = 0;
        for (let i = 0; i < size; i++) dot += g[i] * v[i];
        dots.push(dot);
        steps.forEach((h, j) => {
          const at = (2 * (d * steps.length + j)) * size;
          for (let i = 0; i < size; i++) {
            batch[at + i] = x[i] + h * v[i];
            batch[at + size + i] = x[i] - h * v[i];
          }
        });
      }
      const p = evaluate(m, { [spec.input]: { data: batch, dims: [2 * steps.length * dirs, ...spec.dims] } }, [spec.output])[spec.output];
      const J = objectives(p, W, spec.K, spec.objective);
      const fdAt = (d: number, j: number) => (J[2 * (d * steps.length + j)] - J[2 * (d * steps.length + j) + 1]) / (2 * steps[j]);
      const fd = dots.map((_, d) => fdAt(d, 0));
      const smooth = dots.map((_, d) => Math.abs(fdAt(d, 0) - fdAt(d, 1)) <= 1e-5 * Math.abs(fdAt(d, 0)));
      const errs = dots.map((dot, d) => Math.abs(dot - fd[d]) / Math.abs(fd[d]));
      const j0 = (out[OBJECTIVE_OUTPUT].data as Float32Array)[0];
      console.log(
        `${spec.name} (${spec.objective}, J=${j0.toExponential(3)}, h=${spec.h}): <g,v> ${dots.map((v) => v.toExponential(4)).join(', ')}; ` +
          `FD ${fd.map((v) => v.toExponential(4)).join(', ')}; relative errors ${errs.map((e, d) => e.toExponential(2) + (smooth[d] ? '' : ' (kink within step: skipped)')).join(', ')}`,
      );
      expect(smooth.some(Boolean)).toBe(true);
      errs.forEach((e, d) => smooth[d] && expect(e).toBeLessThan(1e-4));
    });
  }
});
