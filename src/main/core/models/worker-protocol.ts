import type { InputSpec } from '../../../shared/manifest';
import type { ErrorPayload } from '../../../shared/errors';
import type { PixelBatch } from './preprocess';

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
}

export type ToWorker =
  | { type: 'pixels'; id: number; batch: PixelBatch }
  /** Already preprocessed input tensor, n images in the model's layout. */
  | { type: 'tensor'; id: number; n: number; data: Float32Array }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; probs: Float32Array }
  | { type: 'error'; id: number | null; error: ErrorPayload };
