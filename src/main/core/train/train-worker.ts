import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { toErrorPayload } from '../../../shared/errors';
import { argmax } from '../models/top-k';
import { epochOrder, gather } from './batches';
import { buildLenet, LENET_INPUT, LENET_OUTPUT, LENET_PIXELS, LENET_SIDE, lenetParams, type LenetWeights } from './lenet';
import { paramLayout, shareOf, stateCount, stepRange } from './optimiser';
import { SgdKernel } from './sgd-kernel';
import { Aborted, barrier, CTL, flatViews, type FromTrainWorker, type ToTrainWorker, type TrainWorkerInit } from './shared';
import { buildLenetTrainGraph, TRAIN_LOSS, TRAIN_WEIGHTS, trainGradName } from './train-graph';
import { encodeModel } from '../models/onnx-graph';

/**
 * A training worker: its share of every mini-batch through the training graph (train-graph.ts)
 * on its own thread, then its range of the optimiser step (shared.ts describes the protocol).
 */
const init = workerData as TrainWorkerInit;
const port = parentPort!;
const { settings, index: me, total } = init;
const K = settings.workers;
const B = settings.batch;
const classes = settings.classes;
const params = lenetParams(classes);
const { segments } = paramLayout(params);

const ctl = new Int32Array(init.shared.ctl);
const losses = new Float64Array(init.shared.losses);
const { weights, state, grads } = flatViews(init.shared.flat, total, stateCount(settings), K);
const kernel = new SgdKernel(init.shared.flat);
const trainImages = new Uint8Array(init.shared.trainImages);
const trainLabels = new Uint8Array(init.shared.trainLabels);
const testImages = new Uint8Array(init.shared.testImages);
const testLabels = new Uint8Array(init.shared.testLabels);

/** This worker's rows of every batch, and its range of the flat weights in the optimiser step. */
const [rowFrom, rowTo] = shareOf(B, me, K);
const n = rowTo - rowFrom;
const [elFrom, elTo] = shareOf(total, me, K);

// onnxruntime does not read SharedArrayBuffer views: the session reads a local copy of the weights.
const local = new Float32Array(total);
const localWeights: LenetWeights = new Map(segments.map((s) => [s.name, local.subarray(s.offset, s.offset + s.size)]));
const sessionOptions: ort.InferenceSession.SessionOptions = {
  // One fixed thread count and sequential execution: the same settings give bit-identical weights.
  intraOpNumThreads: settings.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const x = new Float32Array(n * LENET_PIXELS);
const wObj = new Float32Array(n * classes);
const feeds: Record<string, ort.Tensor> = {
  [LENET_INPUT]: new ort.Tensor('float32', x, [n, LENET_PIXELS]),
  [TRAIN_WEIGHTS]: new ort.Tensor('float32', wObj, [n, classes]),
};
for (const p of params) feeds[p.name] = new ort.Tensor('float32', localWeights.get(p.name)!, p.dims);
// onnxruntime writes the gradient into one flat local array (no new arrays per step; it does not
// write into shared memory either), copied into shared memory where the optimiser's kernel reads it.
const lossOut = new Float32Array(1);
const gradLocal = new Float32Array(total);
const fetches: Record<string, ort.Tensor> = { [TRAIN_LOSS]: new ort.Tensor('float32', lossOut, []) };
params.forEach((p, i) => (fetches[trainGradName(p.name)] = new ort.Tensor('float32', gradLocal.subarray(segments[i].offset, segments[i].offset + segments[i].size), p.dims)));

const post = (m: FromTrainWorker) => port.postMessage(m);
/** The least time between two progress messages (about two batches; a display needs far fewer). */
const PROGRESS_MS = 20;
let trainSession: ort.InferenceSession;
let evalSession: ort.InferenceSession | undefined;

async function epoch(number: number, iter0: number, batches: number): Promise<void> {
  const order = epochOrder(init.trainCount, settings.seed, number);
  const mine = grads[me];
  let lossSum = 0;
  let done = 0;
  let posted = 0;
  for (let b = 0; b < batches; b++) {
    // Closing (or a failed peer): stop between steps, never inside one (workers.ts, close).
    if (Atomics.load(ctl, CTL.abort) !== 0) throw new Aborted('training is closing');
    local.set(weights); // every range was updated before the last barrier
    const from = b * B;
    gather(trainImages, order, from + rowFrom, from + rowTo, x);
    wObj.fill(0);
    // The whole batch's divisor: the shares' gradients add up to the batch's mean cross-entropy's.
    for (let i = 0; i < n; i++) wObj[i * classes + trainLabels[order[from + rowFrom + i]]] = -1 / B;
    await trainSession.run(feeds, fetches);
    mine.set(gradLocal);
    losses[me] = lossOut[0];
    barrier(ctl, K); // every share's gradient is written
    let loss = 0;
    if (me === 0) {
      for (let k = 0; k < K; k++) loss += losses[k];
      Atomics.store(ctl, CTL.decision, Atomics.load(ctl, CTL.stop));
    }
    stepRange({ settings, segments, weights, state, grads, iter: iter0 + b, kernel }, elFrom, elTo);
    barrier(ctl, K); // every range is updated; the decision is written
    done++;
    if (me === 0) {
      lossSum += loss;
      // A message wakes the starting thread, which then takes a core from a worker: at most one
      // every PROGRESS_MS (and the last batch's, which the benchmark reads the epoch's time from).
      const now = performance.now();
      if (now - posted >= PROGRESS_MS || b === batches - 1) {
        posted = now;
        post({ type: 'progress', batch: b + 1, loss });
      }
    }
    if (Atomics.load(ctl, CTL.decision) !== 0) break;
  }
  post({ type: 'epochEnd', batches: done, lossSum });
}

async function evaluate(from: number, to: number): Promise<void> {
  evalSession ??= await ort.InferenceSession.create(encodeModel(buildLenet(localWeights, { classes, weightsAs: 'inputs' })), sessionOptions);
  local.set(weights);
  const chunk = 500;
  const xs = new Float32Array(chunk * LENET_PIXELS);
  const identity = Uint32Array.from({ length: to }, (_, i) => i);
  const evalFeeds: Record<string, ort.Tensor> = {};
  for (const p of params) evalFeeds[p.name] = new ort.Tensor('float32', localWeights.get(p.name)!, p.dims);
  let correct = 0;
  for (let at = from; at < to; at += chunk) {
    const end = Math.min(to, at + chunk);
    const m = end - at;
    gather(testImages, identity, at, end, xs);
    evalFeeds[LENET_INPUT] = new ort.Tensor('float32', xs.subarray(0, m * LENET_PIXELS), [m, 1, LENET_SIDE, LENET_SIDE]);
    const prob = (await evalSession.run(evalFeeds))[LENET_OUTPUT].data as Float32Array;
    for (let i = 0; i < m; i++) if (argmax(prob.subarray(i * classes, (i + 1) * classes)) === testLabels[at + i]) correct++;
  }
  post({ type: 'evaluated', correct });
}

async function main(): Promise<void> {
  trainSession = await ort.InferenceSession.create(buildLenetTrainGraph(n, classes), sessionOptions);
  let queue = Promise.resolve();
  port.on('message', (m: ToTrainWorker) => {
    if (m.type === 'close') {
      void queue.finally(async () => {
        await trainSession.release();
        await evalSession?.release();
        process.exit(0);
      });
      return;
    }
    queue = queue
      .then(() => (m.type === 'epoch' ? epoch(m.epoch, m.iter, m.batches) : evaluate(m.from, m.to)))
      .catch((e: unknown) => {
        if (!(e instanceof Aborted)) post({ type: 'error', ...toErrorPayload(e) });
      });
  });
  post({ type: 'ready' });
}

main().catch((e: unknown) => post({ type: 'error', ...toErrorPayload(e) }));
