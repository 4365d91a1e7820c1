import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { FoolError } from '../../../shared/errors';
import { buildGradientModel, gradOutputName, GRAD_WEIGHTS_INPUT, OBJECTIVE_OUTPUT } from '../grad/backward';
import { encodeModel } from '../models/onnx-graph';
import { argmax } from '../models/top-k';
import { loadCheckpoint, RESUME_KEYS, saveCheckpoint } from './checkpoints';
import { epochOrder, gather, hashImages, testSet, trainingSet, type Dataset } from './data';
import { buildLenet, initLenetWeights, LENET_INPUT, LENET_OUTPUT, LENET_PIXELS, LENET_SIDE, lenetParams, type LenetWeights } from './lenet';
import { freshState, step, type OptimizerState } from './optimiser';
import type { EpochStats, TrainOptions, TrainResult, TrainSettings } from './settings';

/**
 * The training loop: Caffe's LeNet on MNIST through onnxruntime. The forward and backward passes
 * of a whole mini-batch run as one ONNX graph (core/grad/backward.ts makes it); only the optimiser
 * step (a few typed-array loops over the 431k weights) runs in JavaScript.
 */

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  // One fixed thread count and sequential execution: the same seed then gives bit-identical weights.
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

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
      if (argmax(prob.subarray(i * K, (i + 1) * K)) === test.labels[from + i]) correct++;
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
