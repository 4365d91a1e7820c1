import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { toErrorPayload } from '../../../shared/errors';
import { Rng } from '../engine/rng';
import { sessionOptions } from '../models/provider';
import { topK } from '../models/top-k';
import { GRAD_WEIGHTS_INPUT, PROBS_OUTPUT, gradOutputName } from '../grad/backward';
import { serveJobs } from '../workers/pool';
import type { AscentImageResult, AscentJob, AscentSettings, AscentWorkerInit, GradientAnswer, GradientJob } from './protocol';

/**
 * Runs gradient ascent for a batch of target classes on its own thread (session.run blocks).
 * Works in the model's input space (after preprocessing), as the paper did, and keeps every
 * image inside the valid pixel range.
 */
const init = workerData as AscentWorkerInit;
const port = parentPort!;
const { spec } = init;
const C = spec.channels;
const H = spec.height;
const W = spec.width;
const plane = H * W;
const per = C * plane;
const nchw = spec.layout === 'NCHW';
/** Model channel ch reads source (RGB) channel src[ch]. */
const src = C === 3 && spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
const coef = Array.from({ length: C }, (_, ch) => {
  const mean = spec.mean.length === 1 ? spec.mean[0] : spec.mean[ch];
  const std = spec.std.length === 1 ? spec.std[0] : spec.std[ch];
  return { a: spec.scale / std, b: -mean / std };
});
/** Index of model-input element (channel ch, pixel p) in the flat per-image tensor. */
const at = (ch: number, p: number) => (nchw ? ch * plane + p : p * C + ch);

function toInput(pixels: Float32Array, out: Float32Array): void {
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < C; ch++) out[at(ch, p)] = pixels[p * C + src[ch]] * coef[ch].a + coef[ch].b;
}

function toPixels(x: Float32Array, out: Uint8Array): void {
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < C; ch++) {
      const v = (x[at(ch, p)] - coef[ch].b) / coef[ch].a;
      out[p * C + src[ch]] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
}

function clip(x: Float32Array): void {
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < C; ch++) {
      const lo = coef[ch].b;
      const hi = 255 * coef[ch].a + coef[ch].b;
      const i = at(ch, p);
      if (x[i] < lo) x[i] = lo;
      else if (x[i] > hi) x[i] = hi;
    }
  }
}

/** Separable Gaussian blur of one image, per channel, in place. */
function blur(x: Float32Array, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const tmp = new Float32Array(plane);
  for (let ch = 0; ch < C; ch++) {
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) {
        let v = 0;
        for (let j = -r; j <= r; j++) v += k[j + r] * x[at(ch, y * W + Math.min(W - 1, Math.max(0, xx + j)))];
        tmp[y * W + xx] = v;
      }
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) {
        let v = 0;
        for (let j = -r; j <= r; j++) v += k[j + r] * tmp[Math.min(H - 1, Math.max(0, y + j)) * W + xx];
        x[at(ch, y * W + xx)] = v;
      }
  }
}

async function main() {
  const session = await ort.InferenceSession.create(init.bytes, sessionOptions('cpu', init.threads, init.graphLevel));
  const gradName = gradOutputName(spec.name);
  const dims = (n: number) => (nchw ? [n, C, H, W] : [n, H, W, C]);

  async function forward(x: Float32Array, n: number, targets: number[]) {
    const w = new Float32Array(n * init.outputs);
    targets.forEach((t, i) => (w[i * init.outputs + t + init.labelOffset] = 1));
    const out = await session.run(
      { [spec.name]: new ort.Tensor('float32', x, dims(n)), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [n, init.outputs]) },
      [PROBS_OUTPUT, gradName],
    );
    const probs = out[PROBS_OUTPUT].data as Float32Array;
    return { p: targets.map((t, i) => probs[i * init.outputs + t + init.labelOffset]), g: out[gradName].data as Float32Array, probs };
  }

  async function ascend(job: AscentJob): Promise<AscentImageResult[]> {
    const s: AscentSettings = job.settings;
    const n = job.classes.length;
    // Start: the mean image plus Gaussian noise (std `noise` in pixel units), per target.
    const x = new Float32Array(n * per);
    const px = new Float32Array(plane * C);
    for (let i = 0; i < n; i++) {
      const rng = Rng.of(s.seed, job.classes[i]);
      for (let j = 0; j < px.length; j++) px[j] = init.meanImage[j] + s.noise * rng.gaussian();
      toInput(px, x.subarray(i * per, (i + 1) * per));
    }
    const traces: number[][] = job.classes.map(() => []);
    const done = new Array<boolean>(n).fill(false);
    const stepsTaken = new Array<number>(n).fill(0);
    const rounded = new Uint8Array(per);
    for (let step = 0; step <= s.steps; step++) {
      // Stopped: every image keeps the steps it took (at least one evaluation, so it has a trace).
      if (step > 0 && job.stop && Atomics.load(job.stop, 0) !== 0) break;
      const active = job.classes.map((_, i) => i).filter((i) => !done[i]);
      if (active.length === 0) break;
      const batch = new Float32Array(active.length * per);
      active.forEach((i, k) => {
        const xi = x.subarray(i * per, (i + 1) * per);
        clip(xi);
        batch.set(xi, k * per);
      });
      const { p, g } = await forward(batch, active.length, active.map((i) => job.classes[i]));
      active.forEach((i, k) => {
        traces[i].push(p[k]);
        stepsTaken[i] = step;
        if (p[k] >= s.target || step === s.steps) {
          done[i] = true;
          return;
        }
        const gi = g.subarray(k * per, (k + 1) * per);
        const xi = x.subarray(i * per, (i + 1) * per);
        if (s.stepRule === 'sign') {
          for (let p2 = 0; p2 < plane; p2++) {
            for (let ch = 0; ch < C; ch++) {
              const j = at(ch, p2);
              xi[j] = (xi[j] + s.stepSize * coef[ch].a * Math.sign(gi[j])) * (1 - s.decay);
            }
          }
        } else {
          let norm2 = 0;
          for (let j = 0; j < per; j++) norm2 += gi[j] * gi[j];
          if (norm2 === 0) return;
          const lr = Math.min(s.maxLr, Math.min(0.03, 0.1 * (1 - p[k])) / norm2);
          for (let j = 0; j < per; j++) xi[j] = (xi[j] + lr * gi[j]) * (1 - s.decay);
        }
        if (s.blurSigma > 0 && step % s.blurEvery === s.blurEvery - 1) blur(xi, s.blurSigma);
      });
      port.postMessage({ type: 'progress', id: job.id, value: { step, probs: traces.map((t) => t.at(-1) ?? 0) } });
    }
    // The stored image is the 8-bit one: classify exactly that, so the reported confidence is honest.
    const results: AscentImageResult[] = [];
    const q = new Float32Array(n * per);
    const pixels: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      toPixels(x.subarray(i * per, (i + 1) * per), rounded);
      pixels.push(rounded.slice());
      const f = new Float32Array(plane * C);
      for (let j = 0; j < f.length; j++) f[j] = rounded[j];
      toInput(f, q.subarray(i * per, (i + 1) * per));
    }
    const { p, probs } = await forward(q, n, job.classes);
    for (let i = 0; i < n; i++) {
      const row = probs.subarray(i * init.outputs + init.labelOffset, (i + 1) * init.outputs);
      const top = topK(row, 5);
      const trace = traces[i];
      const first = (t: number) => {
        const k = trace.findIndex((v) => v >= t);
        return k < 0 ? null : k;
      };
      results.push({
        class: job.classes[i],
        pixels: pixels[i],
        confidence: p[i],
        top,
        steps: stepsTaken[i],
        trace,
        stepsTo: { '0.99': first(0.99), '0.999': first(0.999), '0.9999': first(0.9999) },
      });
    }
    return results;
  }

  serveJobs<AscentJob | GradientJob, AscentImageResult[] | GradientAnswer>(port, async (m) => {
    if (m.type === 'gradient') {
      const { probs, g } = await forward(m.x, m.n, m.targets);
      // The outputs go back as copies (small against the run). Transferring onnxruntime-node's
      // own buffers was undone when an abort was blamed on it; the abort came from terminating a
      // worker inside session.run (workers/pool.ts, close), so a transfer could come back with a
      // measured gain. The buffer that brought x goes back to bring a later job.
      const r: GradientAnswer = { probs: probs.slice(), grad: g.slice(), input: m.x.buffer as ArrayBuffer };
      return { value: r, transfer: [r.probs.buffer as ArrayBuffer, r.grad.buffer as ArrayBuffer, r.input] };
    }
    const r = await ascend(m);
    return { value: r, transfer: r.map((x) => x.pixels.buffer as ArrayBuffer) };
  });
  port.postMessage({ type: 'ready' });
}

main().catch((e: unknown) => port.postMessage({ type: 'error', id: null, error: toErrorPayload(e) }));
