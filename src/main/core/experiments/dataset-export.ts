import { accessSync, constants, writeFileSync } from 'node:fs';
import { makeDirs } from '../out-dir';
import { join, resolve } from 'node:path';
import { FoolError } from '../../../shared/errors';
import type { Lab } from '../lab';
import { writePng } from '../models/png';
import { checkSameLabels } from './images';
import { foolingImages } from './fooling-set';

/**
 * Fooling images as a training set for networks too large to retrain here: an ImageFolder layout
 * (DIR/fooling/*.png, what torchvision's ImageFolder and Keras' image_dataset_from_directory read)
 * plus DIR/fooling.csv with where each image came from. Fine-tune elsewhere with one more class,
 * export ONNX, and register it back with "fool models add" (see docs/experiments.md).
 */

export interface DatasetExportResult {
  dir: string;
  images: number;
  csv: string;
}

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function exportFoolingDataset(lab: Lab, runIds: number[], outDir: string, opts: { className?: string } = {}): Promise<DatasetExportResult> {
  if (runIds.length === 0) throw new FoolError('BAD_INPUT', 'no runs given', 'Pass one or more run ids');
  checkSameLabels(runIds.map((id) => lab.runs.get(id)));
  const className = opts.className ?? 'fooling';
  if (!/^[A-Za-z0-9._-]+$/.test(className)) throw new FoolError('BAD_INPUT', `class folder name "${className}" is not allowed`, 'Use letters, digits, ".", "_" and "-"');
  const dir = resolve(outDir);
  const classDir = join(dir, className);
  try {
    makeDirs(classDir);
    accessSync(classDir, constants.W_OK);
  } catch (e) {
    throw new FoolError('IO', `cannot write to ${classDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Choose a folder you can write to (--out)');
  }
  const images = foolingImages(lab, runIds);
  const rows = [['file', 'class', 'run', 'model', 'fooled_class', 'fooled_label', 'confidence', 'generation', 'individual', 'from']];
  for (const im of images) {
    const file = `${className}/run${im.runId}-class${String(im.class).padStart(4, '0')}-ind${im.individualId}.png`;
    await writePng(join(dir, file), im.image);
    rows.push([file, className, String(im.runId), im.model, String(im.class), im.label, im.confidence.toPrecision(6), String(im.generation), String(im.individualId), im.from]);
  }
  const csv = join(dir, `${className}.csv`);
  writeFileSync(csv, rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
  return { dir, images: images.length, csv };
}
