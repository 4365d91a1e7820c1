import type { InputSpec } from '../../../shared/manifest';
import type { GraphLevel } from '../models/graph-level';

/**
 * Gradient ascent in the model's input space (paper-spec section 5): start at the mean image plus
 * noise, clip to the pixel range each step, step, L2 decay x *= (1 - decay), stop at 99.99%.
 *
 * Step rules. The paper gives none. 'released' is the released code's
 * lr = min(maxLr, min(0.03, 0.1 (1 - p)) / ||g||^2): a step that should raise the objective by
 * at most 0.03 under a linear model. It crawls on ImageNet models (measured: SqueezeNet classes
 * stay below 80% after 150 steps), so the default is 'sign': every input moves by `stepSize`
 * pixel units in the direction of its gradient's sign (iterative FGSM), which reaches 99.99% in
 * tens of steps on every model we tried.
 */
export interface AscentSettings {
  steps: number;
  stepRule: 'sign' | 'released';
  /** 'sign' rule: step per input, in 0..255 pixel units. */
  stepSize: number;
  objective: 'probability' | 'log-probability';
  decay: number;
  maxLr: number;
  /** Gaussian blur between steps: sigma in pixels (0 = off), every `blurEvery` steps. */
  blurSigma: number;
  blurEvery: number;
  /** Std of the Gaussian noise added to the mean image at the start, in 0..255 pixel units. */
  noise: number;
  target: number;
  seed: number;
}

export const DEFAULT_ASCENT: AscentSettings = {
  steps: 300,
  stepRule: 'sign',
  stepSize: 2,
  objective: 'log-probability',
  decay: 0.01,
  maxLr: 1e8,
  blurSigma: 0,
  blurEvery: 4,
  noise: 1,
  target: 0.9999,
  seed: 1,
};

export interface AscentWorkerInit {
  /** The gradient graph (forward + d objective / d input). */
  bytes: Uint8Array;
  spec: InputSpec;
  /** Outputs per image (classes + label offset). */
  outputs: number;
  labelOffset: number;
  /** Mean image in pixel space, HWC RGB (or grey), 0..255. */
  meanImage: Float32Array;
  threads: number;
  /** onnxruntime graph optimisation level (models/graph-level.ts). */
  graphLevel: GraphLevel;
}

/**
 * One forward + input-gradient run on inputs already in the model's layout: the gradient
 * service's job (GradientPool.gradient), answered with probabilities and d objective / d input.
 */
export interface GradientJob {
  type: 'gradient';
  id: number;
  n: number;
  x: Float32Array;
  /** Target class of each image (the objective's class). */
  targets: number[];
}

export interface GradientResult {
  /** [n, outputs] probabilities. */
  probs: Float32Array;
  /** d objective / d input, in the input's layout. */
  grad: Float32Array;
}

/** A gradient job's answer: the result, and the buffer that carried x, back for reuse (workers/spare-buffers.ts). */
export interface GradientAnswer extends GradientResult {
  input: ArrayBuffer;
}

export interface AscentJob {
  type: 'ascent';
  id: number;
  classes: number[];
  settings: AscentSettings;
  /**
   * Shared with the caller: a non-zero [0] asks the worker to stop before its next step and return
   * the images as they are (a cancelled job keeps what was computed).
   */
  stop?: Int32Array;
}

export interface AscentImageResult {
  class: number;
  /** Pixels after rounding to 8 bits, HWC RGB/grey: what is stored and exported. */
  pixels: Uint8Array;
  /** The model's probability for the class on the stored (rounded) image. */
  confidence: number;
  /** Top-5 [class, probability] on the stored image. */
  top: [number, number][];
  steps: number;
  /** Probability of the target class before each step (and after the last). */
  trace: number[];
  stepsTo: Record<'0.99' | '0.999' | '0.9999', number | null>;
}

/** Progress of a job: after each step, the latest probability of each target. */
export interface AscentProgress {
  step: number;
  probs: number[];
}
