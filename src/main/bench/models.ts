import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelInfo, PresetName } from '../../shared/manifest';
import { decodeModel, summarize } from '../core/models/onnx-graph';
import { readModelFile } from '../core/models/prepare';
import { presetManifest } from '../core/models/manifest-options';
import { packageRoot } from '../core/paths';

/** ../shared beside the checkout holds the real models the benchmarks use. */
export function sharedDir(): string {
  return resolve(packageRoot(), '..', 'shared');
}

export function hasShared(): boolean {
  return existsSync(join(sharedDir(), 'models'));
}

/** A ModelInfo for a model file without registering it (labels are just indices). */
export function benchModel(path: string, preset: PresetName, opts: { output?: string; labelOffset?: number } = {}): ModelInfo {
  const summary = summarize(decodeModel(readModelFile(path), path));
  const out = summary.outputs.find((o) => o.name === (opts.output ?? summary.outputs[0].name))!;
  const k = Number(out.dims[out.dims.length - 1]) - (opts.labelOffset ?? 0);
  const manifest = presetManifest(preset, summary, { name: 'bench', ...opts }, k, path, 'labels.txt');
  return { manifest, path, labels: Array.from({ length: k }, (_, i) => String(i)), source: 'user' };
}

export const SHARED_MODELS = {
  lenet: () => benchModel(join(sharedDir(), 'models/lenet-caffe/lenet-caffe.onnx'), 'mnist'),
  squeezenet: () => benchModel(join(sharedDir(), 'models/squeezenet1.0/squeezenet1.0.onnx'), 'caffe-imagenet', { output: 'prob' }),
};
