import type { InputSpec } from '../../../shared/manifest';
import type { GraphLevel } from './graph-level';
import type { PixelBatch } from './image';

/** What a classification worker is started with. */
export interface ClassifyWorkerInit {
  bytes: Uint8Array;
  spec: InputSpec;
  outputName: string;
  outputKind: 'probabilities' | 'logits';
  labelOffset: number;
  classes: number;
  provider: 'cpu' | 'cuda';
  threads: number;
  /** onnxruntime graph optimisation level (chooseGraphLevel). */
  graphLevel: GraphLevel;
}

/** A job: pixels to preprocess, or an input tensor already in the model's layout. Answer: probabilities. */
export type ClassifyJob =
  /** tenCrop: score each image as the mean over its 10 crops (ten-crop.ts), run `maxBatch` crops at a time. */
  | { type: 'pixels'; id: number; batch: PixelBatch; tenCrop?: { maxBatch: number } }
  | { type: 'tensor'; id: number; n: number; data: Float32Array };

/**
 * A job's answer: [n, classes] probabilities, and the buffer that carried the job's input, sent
 * back to carry a later job (workers/spare-buffers.ts).
 */
export interface ClassifyResult {
  probs: Float32Array;
  input: ArrayBuffer;
}
