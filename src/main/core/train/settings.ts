/** What decides a LeNet training run, and what it reports: the types the training modules share. */

import type { LenetWeights } from './lenet';

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
  /**
   * Training worker threads: each runs its share of every mini-batch (data parallelism) and a
   * share of the optimiser step. Part of the settings because the gradients of the shares are
   * summed, so results are bit-identical only for the same count; the default is fixed (not the
   * machine's core count) so that the same command gives the same weights on any machine.
   */
  workers: number;
  /** onnxruntime intra-op threads per worker: fixed, because results are only bit-identical for the same count. */
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
  workers: 2,
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
