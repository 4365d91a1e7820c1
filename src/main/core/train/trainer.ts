import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { FoolError } from '../../../shared/errors';
import { ManifestSchema, type Manifest } from '../../../shared/manifest';
import { encodeModel } from '../models/onnx-graph';
import { presetInput } from '../models/presets';
import { checkpointPathFor, loadCheckpoint, writeAtomic } from './checkpoints';
import { loadExtraClassFolder } from './data';
import { buildLenet, LENET_INPUT, LENET_OUTPUT, LENET_SIDE, lenetLabels } from './lenet';
import { trainLenet } from './loop';
import type { TrainOptions, TrainResult, TrainSettings } from './settings';

/**
 * `fool train lenet`'s entry: the files a run writes (FILE.onnx, FILE.json manifest,
 * FILE.labels.txt) and the whole command. The training itself is split by concern:
 * settings.ts (what decides a run), data.ts (MNIST, the extra class, epoch order, batches),
 * optimiser.ts (Caffe's SGD and Adam), checkpoints.ts (save, load, resume checks), loop.ts.
 */

export { checkpointPathFor, writeAtomic } from './checkpoints';
export { epochOrder, loadExtraClassFolder } from './data';
export { trainLenet } from './loop';
export { DEFAULT_SETTINGS, settingsFor } from './settings';
export type { EpochStats, OptimizerName, TrainOptions, TrainProgress, TrainResult, TrainSettings } from './settings';

export interface OutputPaths {
  onnx: string;
  manifest: string;
  labels: string;
  checkpoint: string;
  name: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The files a training run writes for `out` (FILE.onnx); checks the name before any work. */
export function outputPaths(out: string): OutputPaths {
  const onnx = resolve(out);
  if (extname(onnx).toLowerCase() !== '.onnx') {
    throw new FoolError('BAD_INPUT', `--out ${out} must end in .onnx`, 'Pass a path like models/lenet-seed1.onnx');
  }
  const name = basename(onnx, extname(onnx));
  if (!NAME_RE.test(name)) {
    throw new FoolError(
      'BAD_INPUT',
      `the model name "${name}" (from --out) may hold only letters, digits, ".", "_" and "-", up to 64 characters`,
      'Pick another file name',
    );
  }
  if (!existsSync(dirname(onnx))) {
    throw new FoolError('NOT_FOUND', `the folder ${dirname(onnx)} does not exist`, 'Create it first');
  }
  const stem = join(dirname(onnx), name);
  return { onnx, manifest: `${stem}.json`, labels: `${stem}.labels.txt`, checkpoint: checkpointPathFor(onnx), name };
}

export function lenetManifest(name: string, classes: number, description?: string): Manifest {
  return ManifestSchema.parse({
    name,
    file: `${name}.onnx`,
    description,
    preset: 'mnist',
    // The mnist preset is Caffe's LeNet input (p / 256, grey, stretched): what this network trains on.
    input: presetInput('mnist', { name: LENET_INPUT, layout: 'NCHW', height: LENET_SIDE, width: LENET_SIDE }),
    output: { name: LENET_OUTPUT, kind: 'probabilities' },
    labels: `${name}.labels.txt`,
    labelOffset: 0,
    classes,
  });
}

/** Writes the inference model, its labels and manifest (each atomically; the manifest last). */
export function writeLenetOutput(paths: OutputPaths, result: TrainResult): void {
  const { settings } = result;
  const model = buildLenet(result.weights, { classes: settings.classes });
  writeAtomic(paths.onnx, encodeModel(model));
  writeAtomic(paths.labels, lenetLabels(settings.classes).join('\n') + '\n');
  const description =
    `Caffe's LeNet trained by Fooling Lab: seed ${settings.seed}, ${result.epochsDone} epochs, ${settings.optimizer}, ` +
    `batch ${settings.batch}${settings.classes === 11 ? `, extra "fooling" class of ${settings.extraImages} images` : ''}; ` +
    `MNIST test accuracy ${(result.testAccuracy * 100).toFixed(2)}%`;
  writeAtomic(paths.manifest, JSON.stringify(lenetManifest(paths.name, settings.classes, description), null, 2) + '\n');
}

export interface TrainFileOptions extends Omit<TrainOptions, 'checkpointPath' | 'extraImages'> {
  /** FILE.onnx to write (with FILE.json, FILE.labels.txt, and the checkpoint FILE.onnx.ckpt). */
  out: string;
  /** A folder of 28x28 images for the 11th class "fooling". */
  extraClassDir?: string;
  /** Or the images themselves (the database's champions, later). */
  extraImages?: Uint8Array[];
}

/**
 * A checkpoint of a training stopped before its last epoch is work to continue: starting afresh
 * over it (the stopped command run again without --resume) would replace it after one epoch. It is
 * refused, left as it was; a finished training's checkpoint (kept to extend it) may be trained over.
 */
function refuseUnfinished(checkpoint: string): void {
  if (!existsSync(checkpoint)) return;
  let header: ReturnType<typeof loadCheckpoint>['header'];
  try {
    header = loadCheckpoint(checkpoint).header;
  } catch {
    return; // unreadable: nothing in it can be continued
  }
  if (header.epoch >= header.settings.epochs) return;
  throw new FoolError(
    'BAD_INPUT',
    `${checkpoint} holds an unfinished training (${header.epoch} of ${header.settings.epochs} epochs, seed ${header.settings.seed}); it was left untouched`,
    'Continue it: the same command with --resume; or delete that file to start over',
  );
}

/**
 * The whole of `fool train lenet`: checks the output name and the extra class before any training,
 * trains (checkpointing every epoch), then writes the model. Nothing but the checkpoint is written
 * when the run is stopped.
 */
export async function trainLenetFile(settings: TrainSettings, opts: TrainFileOptions): Promise<{ paths: OutputPaths; result: TrainResult }> {
  const paths = outputPaths(opts.out);
  const extraImages = opts.extraImages ?? (opts.extraClassDir ? await loadExtraClassFolder(opts.extraClassDir) : []);
  if (opts.resume && !existsSync(paths.checkpoint)) {
    throw new FoolError('NOT_FOUND', `there is no checkpoint ${paths.checkpoint} to resume from`, 'Run the same command without --resume');
  }
  if (!opts.resume) refuseUnfinished(paths.checkpoint);
  const result = await trainLenet(settings, { ...opts, checkpointPath: paths.checkpoint, extraImages });
  if (!result.stopped) writeLenetOutput(paths, result);
  return { paths, result };
}
