import { readFileSync } from 'node:fs';
import { FoolError } from '../../../shared/errors';
import { decodeModel, encodeModel, type ModelProto } from './onnx-graph';
import { type GraphLevelChoice, chooseGraphLevel } from './graph-level';
import { makeBatchDynamic, rewriteLrn, rewriteWinogradConv } from './rewrites';

export interface PrepareOptions {
  /** Replace LRN with AveragePool-based ops (same results within 1e-5, much faster on CPU). */
  fastLrn?: boolean;
  /**
   * Compute 5x5 convolutions in Winograd form F(4x4, 5x5) (same results within float32 rounding)
   * where onnxruntime runs them unblocked (graph level 'extended': odd channel counts such as
   * Caffe LeNet's conv2, measured ~1.5x faster forward at batch 128); never on models whose
   * channels suit the blocked kernels (SqueezeNet, MobileNet).
   */
  winogradConv?: boolean;
}

export function readModelFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FoolError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      code === 'ENOENT' ? `model file ${path} does not exist` : `cannot read model file ${path}: ${(e as Error).message}`,
      'Check the path',
    );
  }
}

/** The graph as onnxruntime should run it: batch made dynamic, optional fast rewrites. */
export function prepareModel(model: ModelProto, opts: PrepareOptions = {}): { model: ModelProto; notes: string[] } {
  const notes: string[] = [];
  if (makeBatchDynamic(model).changed) notes.push('batch dimension made dynamic');
  if (opts.fastLrn ?? true) {
    const { rewritten } = rewriteLrn(model);
    if (rewritten > 0) notes.push(`${rewritten} LRN rewritten with AveragePool`);
  }
  if ((opts.winogradConv ?? true) && chooseGraphLevel(model).level === 'extended') {
    const { rewritten } = rewriteWinogradConv(model);
    if (rewritten > 0) notes.push(`${rewritten} 5x5 Conv rewritten in Winograd form F(4x4, 5x5)`);
  }
  return { model, notes };
}

/** The prepared model's bytes, with the graph optimisation level its convolutions want on the CPU. */
export function prepareModelBytes(path: string, opts: PrepareOptions = {}): { bytes: Uint8Array; notes: string[]; graphLevel: GraphLevelChoice } {
  const model = decodeModel(readModelFile(path), path);
  // Chosen from the model as stored: the rewrites change which Conv nodes remain.
  const graphLevel = chooseGraphLevel(model);
  const { notes } = prepareModel(model, opts);
  return { bytes: encodeModel(model), notes, graphLevel };
}
