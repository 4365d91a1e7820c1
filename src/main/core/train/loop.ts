import { existsSync } from 'node:fs';
import { FoolError } from '../../../shared/errors';
import { loadCheckpoint, RESUME_KEYS, saveCheckpoint } from './checkpoints';
import { hashImages, testSet, trainingSet } from './data';
import { initLenetWeights, lenetParams, type LenetWeights } from './lenet';
import { freshState, paramLayout, type OptimizerState } from './optimiser';
import type { EpochStats, TrainOptions, TrainResult, TrainSettings } from './settings';
import { TrainWorkers } from './workers';

/**
 * The training loop: Caffe's LeNet on MNIST through onnxruntime, on worker threads. Each of
 * `settings.workers` workers runs its share of every mini-batch through one ONNX graph (forward,
 * loss and every weight's gradient: train-graph.ts) and its share of the optimiser step; they
 * share the weights and meet at a barrier (shared.ts). This thread only starts epochs, relays
 * progress, has the test set evaluated and writes checkpoints.
 */

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
  if (!Number.isInteger(settings.workers) || settings.workers < 1 || settings.workers > settings.batch) {
    throw new FoolError('BAD_INPUT', `--workers must be an integer from 1 to the batch size (${settings.batch}), got ${settings.workers}`, 'Leave it out for the default (2)');
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
  const B = settings.batch;
  const batches = Math.floor(train.n / B); // the remainder waits for the next epoch's shuffle
  if (batches < 1) throw new FoolError('BAD_INPUT', `the batch size ${B} exceeds the ${train.n} training images`, 'Use a smaller --batch');

  // From here on the weights and the optimiser state live in the workers' shared memory.
  const { segments, total } = paramLayout(params);
  const pool = await TrainWorkers.start(settings, train, test, total);
  for (const s of segments) pool.weights.set(weights.get(s.name)!, s.offset);
  pool.state.forEach((buf, j) => segments.forEach((s, i) => buf.set(state.buffers[j * segments.length + i], s.offset)));
  const view = (flat: Float32Array): Float32Array[] => segments.map((s) => flat.subarray(s.offset, s.offset + s.size));
  const sharedWeights: LenetWeights = new Map(segments.map((s, i) => [s.name, view(pool.weights)[i]]));
  const sharedState: OptimizerState = { iter: state.iter, buffers: pool.state.flatMap(view) };
  const copy = (w: LenetWeights): LenetWeights => new Map([...w].map(([k, v]) => [k, Float32Array.from(v)]));

  const started = performance.now();
  let stopped = false;
  let result: LenetWeights = copy(weights);
  try {
    for (let epoch = epoch0 + 1; epoch <= settings.epochs; epoch++) {
      if (opts.signal?.aborted) {
        stopped = true;
        break;
      }
      const t0 = performance.now();
      const run = await pool.epoch(
        epoch,
        sharedState.iter,
        batches,
        (batch, loss) =>
          opts.onProgress?.({ epoch, epochs: settings.epochs, batch, batches, loss, imagesPerSecond: (batch * B) / ((performance.now() - t0) / 1000) }),
        opts.signal,
      );
      if (run.batches < batches) {
        // Stopped mid-epoch: the weights moved past the checkpoint; the result is the last finished epoch's.
        stopped = true;
        break;
      }
      sharedState.iter += batches;
      const testAccuracy = (await pool.evaluate(test.n)) / test.n;
      const stats: EpochStats = { epoch, loss: run.lossSum / batches, testAccuracy, seconds: (performance.now() - t0) / 1000 };
      history = [...history, stats];
      result = copy(sharedWeights);
      if (ckpt) saveCheckpoint(ckpt, settings, epoch, sharedWeights, sharedState, history);
      opts.onEpoch?.(stats);
    }
  } finally {
    await pool.close();
  }
  const last = history[history.length - 1];
  return {
    weights: result,
    settings,
    epochsDone: last?.epoch ?? 0,
    history,
    stopped,
    seconds: (performance.now() - started) / 1000,
    testAccuracy: last?.testAccuracy ?? Number.NaN,
  };
}
