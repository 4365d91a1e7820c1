import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { FoolError } from '../../../shared/errors';
import { ManifestSchema, type Manifest } from '../../../shared/manifest';
import { loadMnist } from '../data/mnist';
import { encodeModel } from '../models/onnx-graph';
import {
  buildGradientModel,
  gradOutputName,
  GRAD_WEIGHTS_INPUT,
  OBJECTIVE_OUTPUT,
} from '../grad/backward';
import {
  buildLenet,
  initLenetWeights,
  LENET_INPUT,
  LENET_OUTPUT,
  LENET_PIXELS,
  LENET_SCALE,
  LENET_SIDE,
  lenetLabels,
  lenetParams,
  sizeOf,
  type LenetWeights,
  type ParamSpec,
} from './lenet';

/**
 * Training Caffe's LeNet on MNIST through onnxruntime: the forward and backward passes of a whole
 * mini-batch run as one ONNX graph (core/grad/backward.ts makes it); only the optimiser step (a few
 * typed-array loops over the 431k weights) runs in JavaScript.
 */

export type OptimizerName = 'sgd' | 'adam';

/** Everything that decides the trained weights (stored in checkpoints; resume checks it). */
export interface TrainSettings {
  seed: number;
  /** Epochs to reach (a resumed run continues up to this many). */
  epochs: number;
  batch: number;
  optimizer: OptimizerName;
  /** Base learning rate: Caffe's lenet_solver uses 0.01 for SGD, lenet_solver_adam 0.001 for Adam. */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Caffe's lr_policy "inv": lr * (1 + gamma * iter)^-power (SGD only; Adam's solver is "fixed"). */
  gamma: number;
  power: number;
  beta2: number;
  eps: number;
  /** 10 digits, or 11 with the "fooling" class. */
  classes: number;
  /** Use only the first trainLimit training images (tests); 0 = all. */
  trainLimit: number;
  /** Images of the extra class before oversampling (0 without one), and a hash of their pixels. */
  extraImages: number;
  extraHash: string;
  /** onnxruntime intra-op threads: fixed, because results are only bit-identical for the same count. */
  threads: number;
}

export const DEFAULT_SETTINGS: Omit<TrainSettings, 'seed' | 'epochs'> = {
  batch: 64,
  optimizer: 'sgd',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.0005,
  gamma: 1e-4,
  power: 0.75,
  beta2: 0.999,
  eps: 1e-8,
  classes: 10,
  trainLimit: 0,
  extraImages: 0,
  extraHash: '',
  threads: 1,
};

/** Caffe's solver defaults for each optimiser (lenet_solver.prototxt, lenet_solver_adam.prototxt). */
export function settingsFor(
  optimizer: OptimizerName,
  seed: number,
  epochs: number,
  overrides: Partial<TrainSettings> = {},
): TrainSettings {
  const base: TrainSettings = { ...DEFAULT_SETTINGS, seed, epochs, optimizer };
  if (optimizer === 'adam') base.lr = 0.001;
  return { ...base, ...overrides };
}

export interface TrainProgress {
  epoch: number; // 1-based, the epoch in progress
  epochs: number;
  batch: number; // 1-based, batches done in this epoch
  batches: number;
  loss: number; // this batch's mean cross-entropy
  imagesPerSecond: number; // over this epoch so far
}

export interface EpochStats {
  epoch: number;
  loss: number; // mean training loss over the epoch
  testAccuracy: number;
  seconds: number;
}

export interface TrainOptions {
  /** Where the checkpoint goes (and resume reads it); none without. */
  checkpointPath?: string;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (e: EpochStats) => void;
  /** The extra class's images (28x28 grey bytes each), label 10. A typed seam for the database. */
  extraImages?: Uint8Array[];
  /** Test set size limit (tests); 0 = all 10,000. */
  testLimit?: number;
}

export interface TrainResult {
  weights: LenetWeights;
  settings: TrainSettings;
  /** Epochs finished in all (including those of a resumed checkpoint). */
  epochsDone: number;
  history: EpochStats[];
  /** Stopped by the signal before `settings.epochs`: weights are those of the last finished epoch. */
  stopped: boolean;
  /** Training seconds of this call. */
  seconds: number;
  /** Test accuracy after the last finished epoch (NaN when no epoch has finished). */
  testAccuracy: number;
}

interface Dataset {
  n: number;
  images: Uint8Array; // n * 784
  labels: Uint8Array;
}

/** A seeded, well-mixed 32-bit seed for (seed, stream): epochs shuffle from independent streams. */
function mixSeed(seed: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h | 0;
}

/** FNV-1a over the extra class's pixels: a resumed run must train on the same images. */
function hashImages(images: Uint8Array[]): string {
  if (images.length === 0) return '';
  let h = 0x811c9dc5;
  for (const img of images) for (let i = 0; i < img.length; i++) h = Math.imul(h ^ img[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Epoch e's order: a Fisher-Yates shuffle from (seed, e) alone, so a resumed run sees the same order. */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  const rng = xoroshiro128plus(mixSeed(seed, epoch));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * MNIST's training images plus the extra class (label 10), oversampled by repetition to about the
 * size of one digit class so that the network cannot ignore it (the retraining experiment).
 */
function trainingSet(limit: number, extra: Uint8Array[]): Dataset {
  const mnist = loadMnist('train');
  const n0 = limit > 0 ? Math.min(limit, mnist.n) : mnist.n;
  const copies = extra.length === 0 ? 0 : Math.max(extra.length, Math.round(n0 / 10));
  const n = n0 + copies;
  const images = new Uint8Array(n * LENET_PIXELS);
  const labels = new Uint8Array(n);
  images.set(mnist.images.subarray(0, n0 * LENET_PIXELS));
  labels.set(mnist.labels.subarray(0, n0));
  for (let i = 0; i < copies; i++) {
    images.set(extra[i % extra.length], (n0 + i) * LENET_PIXELS);
    labels[n0 + i] = 10;
  }
  return { n, images, labels };
}

function testSet(limit: number): Dataset {
  const t = loadMnist('test');
  const n = limit > 0 ? Math.min(limit, t.n) : t.n;
  return { n, images: t.images.subarray(0, n * LENET_PIXELS), labels: t.labels.subarray(0, n) };
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  // One fixed thread count and sequential execution: the same seed then gives bit-identical weights.
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** Pixels of images[idx[from..to)] as Caffe's input (p / 256) into `out`. */
function gather(images: Uint8Array, idx: ArrayLike<number>, from: number, to: number, out: Float32Array): void {
  for (let b = 0, i = from; i < to; i++, b++) {
    const src = idx[i] * LENET_PIXELS;
    const dst = b * LENET_PIXELS;
    for (let p = 0; p < LENET_PIXELS; p++) out[dst + p] = images[src + p] * LENET_SCALE;
  }
}

// ---------------------------------------------------------------------------------------------
// Optimisers: Caffe's SGD and Adam solvers, including lr_mult 2 on biases and L2 weight decay
// (decay_mult 1 on everything, as Caffe's defaults).

interface OptimizerState {
  /** Caffe's iteration counter (drives the "inv" learning rate and Adam's bias correction). */
  iter: number;
  /** Per parameter: SGD's momentum history, or Adam's first moment then second moment. */
  buffers: Float32Array[];
}

function freshState(settings: TrainSettings, params: ParamSpec[]): OptimizerState {
  const perParam = settings.optimizer === 'adam' ? 2 : 1;
  const buffers: Float32Array[] = [];
  for (let k = 0; k < perParam; k++) for (const p of params) buffers.push(new Float32Array(sizeOf(p.dims)));
  return { iter: 0, buffers };
}

function step(settings: TrainSettings, params: ParamSpec[], weights: LenetWeights, grads: Float32Array[], state: OptimizerState): void {
  const { weightDecay: wd, momentum } = settings;
  if (settings.optimizer === 'sgd') {
    // Caffe SGDSolver: v = momentum * v + lr_local * (g + wd * w); w -= v.
    const rate = settings.lr * Math.pow(1 + settings.gamma * state.iter, -settings.power);
    params.forEach((p, k) => {
      const w = weights.get(p.name)!;
      const g = grads[k];
      const v = state.buffers[k];
      const lr = rate * (p.bias ? 2 : 1);
      for (let i = 0; i < w.length; i++) {
        const vi = momentum * v[i] + lr * (g[i] + wd * w[i]);
        v[i] = vi;
        w[i] -= vi;
      }
    });
  } else {
    // Caffe AdamSolver (lr_policy fixed): m, v moments; w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps).
    const t = state.iter + 1;
    const b1 = momentum;
    const b2 = settings.beta2;
    const correction = Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
    params.forEach((p, k) => {
      const w = weights.get(p.name)!;
      const g = grads[k];
      const m = state.buffers[k];
      const v = state.buffers[params.length + k];
      const lr = settings.lr * (p.bias ? 2 : 1) * correction;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + wd * w[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * mi) / (Math.sqrt(vi) + settings.eps);
      }
    });
  }
  state.iter++;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: FILE.onnx.ckpt = 4-byte header length, a JSON header, then float32 weights and
// optimiser buffers in lenetParams order. Written atomically after every finished epoch.

interface CheckpointHeader {
  format: 'fooling-lab-lenet-checkpoint';
  version: 1;
  settings: TrainSettings;
  epoch: number;
  iter: number;
  history: EpochStats[];
  /** Float counts of the arrays that follow, in order. */
  sizes: number[];
}

export function checkpointPathFor(out: string): string {
  return `${out}.ckpt`;
}

/** Writes `data` to `path` through a temporary file and a rename: readers never see half a file. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FoolError('IO', `cannot write ${path} (${(e as Error).message})`, 'Check that the folder exists and is writable');
  }
}

function saveCheckpoint(path: string, settings: TrainSettings, epoch: number, weights: LenetWeights, state: OptimizerState, history: EpochStats[]): void {
  const params = lenetParams(settings.classes);
  const arrays = [...params.map((p) => weights.get(p.name)!), ...state.buffers];
  const header: CheckpointHeader = {
    format: 'fooling-lab-lenet-checkpoint',
    version: 1,
    settings,
    epoch,
    iter: state.iter,
    history,
    sizes: arrays.map((a) => a.length),
  };
  const json = Buffer.from(JSON.stringify(header));
  const pad = (4 - ((4 + json.length) % 4)) % 4; // keep the floats 4-byte aligned
  const floats = arrays.reduce((s, a) => s + a.length, 0);
  const buf = Buffer.alloc(4 + json.length + pad + floats * 4, 0x20);
  buf.writeUInt32LE(json.length + pad, 0);
  json.copy(buf, 4);
  let off = 4 + json.length + pad;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, off);
    off += a.byteLength;
  }
  writeAtomic(path, buf);
}

function loadCheckpoint(path: string): { header: CheckpointHeader; weights: LenetWeights; state: OptimizerState } {
  let header: CheckpointHeader;
  let buf: Buffer;
  try {
    buf = readFileSync(path);
    const len = buf.readUInt32LE(0);
    header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as CheckpointHeader;
    if (header.format !== 'fooling-lab-lenet-checkpoint' || header.version !== 1) throw new Error('not a LeNet checkpoint');
    header.settings = { ...DEFAULT_SETTINGS, ...header.settings }; // settings added since it was written
    let off = 4 + len;
    const arrays = header.sizes.map((n) => {
      if (off + n * 4 > buf.length) throw new Error('truncated');
      const a = new Float32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(off, off + n * 4));
      off += n * 4;
      return a;
    });
    const params = lenetParams(header.settings.classes);
    const weights: LenetWeights = new Map(params.map((p, k) => [p.name, arrays[k]]));
    return { header, weights, state: { iter: header.iter, buffers: arrays.slice(params.length) } };
  } catch (e) {
    throw new FoolError(
      'BAD_INPUT',
      `${path} is not a readable training checkpoint (${(e as Error).message})`,
      'Delete it and train again without --resume',
    );
  }
}

/** Settings that must agree between a checkpoint and a resumed run (epochs may grow). */
const RESUME_KEYS: (keyof TrainSettings)[] = [
  'seed', 'batch', 'optimizer', 'lr', 'momentum', 'weightDecay', 'gamma', 'power', 'beta2', 'eps',
  'classes', 'trainLimit', 'extraImages', 'extraHash', 'threads',
];

// ---------------------------------------------------------------------------------------------

/** Accuracy of `weights` on `test`, through one session whose weights are graph inputs. */
async function evaluate(session: ort.InferenceSession, settings: TrainSettings, weights: LenetWeights, test: Dataset): Promise<number> {
  const params = lenetParams(settings.classes);
  const chunk = 500;
  const x = new Float32Array(chunk * LENET_PIXELS);
  const identity = Uint32Array.from({ length: test.n }, (_, i) => i);
  const feeds: Record<string, ort.Tensor> = {};
  for (const p of params) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!, p.dims);
  let correct = 0;
  for (let from = 0; from < test.n; from += chunk) {
    const to = Math.min(test.n, from + chunk);
    const b = to - from;
    gather(test.images, identity, from, to, x);
    feeds[LENET_INPUT] = new ort.Tensor('float32', x.subarray(0, b * LENET_PIXELS), [b, 1, LENET_SIDE, LENET_SIDE]);
    const prob = (await session.run(feeds))[LENET_OUTPUT].data as Float32Array;
    const K = settings.classes;
    for (let i = 0; i < b; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (prob[i * K + k] > prob[i * K + best]) best = k;
      if (best === test.labels[from + i]) correct++;
    }
  }
  return correct / test.n;
}

/**
 * Trains a LeNet from `settings` (or from the checkpoint when resuming). Deterministic: the same
 * settings give bit-identical weights, whether or not the run was stopped and resumed in between.
 */
export async function trainLenet(settings: TrainSettings, opts: TrainOptions = {}): Promise<TrainResult> {
  const extra = opts.extraImages ?? [];
  settings = { ...settings, classes: extra.length > 0 ? 11 : settings.classes, extraImages: extra.length, extraHash: hashImages(extra) };
  if (settings.classes === 11 && extra.length === 0) {
    throw new FoolError('BAD_INPUT', 'an 11-class LeNet needs images for its extra class', 'Pass --extra-class DIR');
  }
  const params = lenetParams(settings.classes);
  let weights: LenetWeights;
  let state: OptimizerState;
  let epoch0 = 0;
  let history: EpochStats[] = [];
  const ckpt = opts.checkpointPath;
  if (opts.resume) {
    if (!ckpt || !existsSync(ckpt)) {
      throw new FoolError('NOT_FOUND', `there is no checkpoint to resume from${ckpt ? ` (${ckpt})` : ''}`, 'Train without --resume');
    }
    const c = loadCheckpoint(ckpt);
    for (const k of RESUME_KEYS) {
      if (c.header.settings[k] !== settings[k]) {
        throw new FoolError(
          'MISMATCH',
          `the checkpoint ${ckpt} was trained with ${k} = ${String(c.header.settings[k])}, not ${String(settings[k])}`,
          'Resume with the same settings as the first run, or train afresh without --resume',
        );
      }
    }
    ({ weights, state } = c);
    epoch0 = c.header.epoch;
    history = c.header.history;
  } else {
    weights = initLenetWeights(settings.classes, settings.seed);
    state = freshState(settings, params);
  }

  const train = trainingSet(settings.trainLimit, extra);
  const test = testSet(opts.testLimit ?? 0);
  const batches = Math.floor(train.n / settings.batch); // the remainder waits for the next epoch's shuffle
  if (batches < 1) throw new FoolError('BAD_INPUT', `the batch size ${settings.batch} exceeds the ${train.n} training images`, 'Use a smaller --batch');

  // The training graph: forward + cross-entropy gradient wrt every weight, for a fixed batch size.
  const B = settings.batch;
  const gradModel = buildGradientModel(buildLenet(weights, { classes: settings.classes, batch: B }), {
    output: LENET_OUTPUT,
    outputKind: 'probabilities',
    objective: 'log-probability',
    wrt: params.map((p) => p.name),
  });
  // buildGradientModel keeps the weights as initializers that are also graph inputs ("overridable").
  // onnxruntime-node only passes feeds named in session.inputNames, which leaves those out, so
  // the weights we feed would be silently ignored: make them plain inputs.
  const wrt = new Set(params.map((p) => p.name));
  gradModel.graph!.initializer = (gradModel.graph!.initializer ?? []).filter((t) => !wrt.has(t.name ?? ''));
  const so = sessionOptions(settings.threads);
  const gradSession = await ort.InferenceSession.create(encodeModel(gradModel), so);
  const missing = [...wrt].filter((n) => !gradSession.inputNames.includes(n));
  if (missing.length > 0) throw new FoolError('INTERNAL', `the training graph does not take ${missing.join(', ')} as inputs`);
  const evalSession = await ort.InferenceSession.create(
    encodeModel(buildLenet(weights, { classes: settings.classes, weightsAs: 'inputs' })),
    so,
  );
  const fetches = [OBJECTIVE_OUTPUT, ...params.map((p) => gradOutputName(p.name))];

  // Reused buffers: the batch's pixels and objective weights (-onehot / B: mean cross-entropy).
  const K = settings.classes;
  const x = new Float32Array(B * LENET_PIXELS);
  const wObj = new Float32Array(B * K);
  const feeds: Record<string, ort.Tensor> = {
    [LENET_INPUT]: new ort.Tensor('float32', x, [B, 1, LENET_SIDE, LENET_SIDE]),
    [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', wObj, [B, K]),
  };
  for (const p of params) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!, p.dims);

  const started = performance.now();
  let stopped = false;
  try {
    for (let epoch = epoch0 + 1; epoch <= settings.epochs; epoch++) {
      if (opts.signal?.aborted) {
        stopped = true;
        break;
      }
      const t0 = performance.now();
      const order = epochOrder(train.n, settings.seed, epoch);
      let lossSum = 0;
      let done = 0;
      for (let b = 0; b < batches; b++) {
        const from = b * B;
        gather(train.images, order, from, from + B, x);
        wObj.fill(0);
        for (let i = 0; i < B; i++) wObj[i * K + train.labels[order[from + i]]] = -1 / B;
        const out = await gradSession.run(feeds, fetches);
        const objective = out[OBJECTIVE_OUTPUT].data as Float32Array;
        let loss = 0;
        for (let i = 0; i < objective.length; i++) loss += objective[i];
        const grads = params.map((p) => out[gradOutputName(p.name)].data as Float32Array);
        step(settings, params, weights, grads, state); // updates weights in place: the feeds see it
        lossSum += loss;
        done++;
        opts.onProgress?.({
          epoch,
          epochs: settings.epochs,
          batch: b + 1,
          batches,
          loss,
          imagesPerSecond: (done * B) / ((performance.now() - t0) / 1000),
        });
        if (opts.signal?.aborted) break;
      }
      if (done < batches) {
        // Stopped mid-epoch: the weights moved past the checkpoint; take the checkpoint's back.
        stopped = true;
        if (ckpt && existsSync(ckpt)) {
          const c = loadCheckpoint(ckpt);
          weights = c.weights;
        } else weights = initLenetWeights(settings.classes, settings.seed);
        break;
      }
      const testAccuracy = await evaluate(evalSession, settings, weights, test);
      const stats: EpochStats = { epoch, loss: lossSum / batches, testAccuracy, seconds: (performance.now() - t0) / 1000 };
      history = [...history, stats];
      if (ckpt) saveCheckpoint(ckpt, settings, epoch, weights, state, history);
      opts.onEpoch?.(stats);
    }
  } finally {
    await gradSession.release();
    await evalSession.release();
  }
  const last = history[history.length - 1];
  return {
    weights,
    settings,
    epochsDone: last?.epoch ?? 0,
    history,
    stopped,
    seconds: (performance.now() - started) / 1000,
    testAccuracy: last?.testAccuracy ?? Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// The extra "fooling" class from a folder of images.

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * The images of `dir` as 28x28 grey bytes. Every image must already be 28x28 (colour is turned
 * grey; other sizes are refused rather than resized, since resizing would change what fooled the
 * network). Fails before any training starts.
 */
export async function loadExtraClassFolder(dir: string): Promise<Uint8Array[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FoolError('NOT_FOUND', `${dir} is not a folder`, 'Pass --extra-class a folder of 28x28 PNG or JPEG images');
  }
  const files = readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort();
  if (files.length === 0) {
    throw new FoolError('NOT_FOUND', `${dir} holds no PNG or JPEG images`, 'Put the extra class\'s 28x28 images (.png, .jpg) in it');
  }
  const out: Uint8Array[] = [];
  for (const f of files) {
    const file = join(dir, f);
    let decoded: { data: Buffer; info: { width: number; height: number } };
    try {
      // Transparent pixels become background (black), colour becomes grey.
      decoded = await sharp(file).flatten({ background: '#000000' }).grayscale().raw().toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw new FoolError('BAD_IMAGE', `${file} cannot be decoded (${(e as Error).message})`, 'Remove it or replace it with a PNG or JPEG');
    }
    const { data, info } = decoded;
    if (info.width !== LENET_SIDE || info.height !== LENET_SIDE) {
      throw new FoolError(
        'MISMATCH',
        `${file} is ${info.width}x${info.height}; the extra class needs ${LENET_SIDE}x${LENET_SIDE} images (MNIST's size)`,
        'Resize the images to 28x28 yourself (they are not resized silently) or remove them',
      );
    }
    out.push(new Uint8Array(data.buffer, data.byteOffset, LENET_PIXELS).slice());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output: FILE.onnx, FILE.json (manifest), FILE.labels.txt.

export interface OutputPaths {
  onnx: string;
  manifest: string;
  labels: string;
  checkpoint: string;
  name: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The files a training run writes for `out` (FILE.onnx); checks the name before any work. */
export function outputPaths(out: string): OutputPaths {
  const onnx = resolve(out);
  if (extname(onnx).toLowerCase() !== '.onnx') {
    throw new FoolError('BAD_INPUT', `--out ${out} must end in .onnx`, 'Pass a path like models/lenet-seed1.onnx');
  }
  const name = basename(onnx, extname(onnx));
  if (!NAME_RE.test(name)) {
    throw new FoolError(
      'BAD_INPUT',
      `the model name "${name}" (from --out) may hold only letters, digits, ".", "_" and "-", up to 64 characters`,
      'Pick another file name',
    );
  }
  if (!existsSync(dirname(onnx))) {
    throw new FoolError('NOT_FOUND', `the folder ${dirname(onnx)} does not exist`, 'Create it first');
  }
  const stem = join(dirname(onnx), name);
  return { onnx, manifest: `${stem}.json`, labels: `${stem}.labels.txt`, checkpoint: checkpointPathFor(onnx), name };
}

export function lenetManifest(name: string, classes: number, description?: string): Manifest {
  return ManifestSchema.parse({
    name,
    file: `${name}.onnx`,
    description,
    preset: 'mnist',
    input: {
      name: LENET_INPUT,
      layout: 'NCHW',
      height: LENET_SIDE,
      width: LENET_SIDE,
      channels: 1,
      channelOrder: 'RGB',
      scale: LENET_SCALE,
      mean: [0],
      std: [1],
      resize: 'stretch',
    },
    output: { name: LENET_OUTPUT, kind: 'probabilities' },
    labels: `${name}.labels.txt`,
    labelOffset: 0,
    classes,
  });
}

/** Writes the inference model, its labels and manifest (each atomically; the manifest last). */
export function writeLenetOutput(paths: OutputPaths, result: TrainResult): void {
  const { settings } = result;
  const model = buildLenet(result.weights, { classes: settings.classes });
  writeAtomic(paths.onnx, encodeModel(model));
  writeAtomic(paths.labels, lenetLabels(settings.classes).join('\n') + '\n');
  const description =
    `Caffe's LeNet trained by Fooling Lab: seed ${settings.seed}, ${result.epochsDone} epochs, ${settings.optimizer}, ` +
    `batch ${settings.batch}${settings.classes === 11 ? `, extra "fooling" class of ${settings.extraImages} images` : ''}; ` +
    `MNIST test accuracy ${(result.testAccuracy * 100).toFixed(2)}%`;
  writeAtomic(paths.manifest, JSON.stringify(lenetManifest(paths.name, settings.classes, description), null, 2) + '\n');
}

export interface TrainFileOptions extends Omit<TrainOptions, 'checkpointPath' | 'extraImages'> {
  /** FILE.onnx to write (with FILE.json, FILE.labels.txt, and the checkpoint FILE.onnx.ckpt). */
  out: string;
  /** A folder of 28x28 images for the 11th class "fooling". */
  extraClassDir?: string;
  /** Or the images themselves (the database's champions, later). */
  extraImages?: Uint8Array[];
}

/**
 * The whole of `fool train lenet`: checks the output name and the extra class before any training,
 * trains (checkpointing every epoch), then writes the model. Nothing but the checkpoint is written
 * when the run is stopped.
 */
export async function trainLenetFile(settings: TrainSettings, opts: TrainFileOptions): Promise<{ paths: OutputPaths; result: TrainResult }> {
  const paths = outputPaths(opts.out);
  const extraImages = opts.extraImages ?? (opts.extraClassDir ? await loadExtraClassFolder(opts.extraClassDir) : []);
  if (opts.resume && !existsSync(paths.checkpoint)) {
    throw new FoolError('NOT_FOUND', `there is no checkpoint ${paths.checkpoint} to resume from`, 'Run the same command without --resume');
  }
  const result = await trainLenet(settings, { ...opts, checkpointPath: paths.checkpoint, extraImages });
  if (!result.stopped) writeLenetOutput(paths, result);
  return { paths, result };
}
