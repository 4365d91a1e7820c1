import { readFileSync } from 'node:fs';
import { FoolError } from '../../../shared/errors';
import { decodeModel, encodeModel, type ModelProto } from './onnx-graph';
import { type GraphLevelChoice, chooseGraphLevel } from './graph-level';
import { makeBatchDynamic, rewriteLrn } from './rewrites';

export interface PrepareOptions {
  /** Replace LRN with AveragePool-based ops (same results within 1e-5, much faster on CPU). */
  fastLrn?: boolean;
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
  return { model, notes };
}

/** The prepared model's bytes, with the graph optimisation level its convolutions want on the CPU. */
export function prepareModelBytes(path: string, opts: PrepareOptions = {}): { bytes: Uint8Array; notes: string[]; graphLevel: GraphLevelChoice } {
  const model = decodeModel(readModelFile(path), path);
  const { notes } = prepareModel(model, opts);
  return { bytes: encodeModel(model), notes, graphLevel: chooseGraphLevel(model) };
}
