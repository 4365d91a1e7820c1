import { FoolError } from '../../../shared/errors';
import { shortLabel } from '../../../shared/labels';
import type { ModelInfo } from '../../../shared/manifest';
import { individualImage } from '../individual-image';
import type { Lab } from '../lab';
import type { Image } from '../models/image';
import type { RunRow } from '../store/runs';

/** Helpers the experiments share: champions' images, label-set checks and the median. */

/**
 * Champions' images, each rendered on first use and kept (an individual may hold several cells,
 * and a transfer shows each image to every target): an experiment renders as it goes, never all
 * before its first result, which held the host's thread for a minute on 1000 ImageNet champions.
 */
export function championImages(lab: Lab): (runId: number, individualId: number) => Image {
  const cache = new Map<string, Image>();
  return (runId, individualId) => {
    const key = `${runId}/${individualId}`;
    let image = cache.get(key);
    if (!image) cache.set(key, (image = individualImage(lab, runId, individualId)));
    return image;
  };
}

/**
 * A label as a comparable key: Caffe's synset files say "n01440764 tench, Tinca tinca", other
 * label files "tench, Tinca tinca"; both are the same class.
 */
export const labelKey = (l: string): string => shortLabel(l).trim().toLowerCase();

/** Refuses runs made over different label sets (their class indices do not mean the same thing). */
export function checkSameLabels(runs: RunRow[]): void {
  const [first, ...rest] = runs;
  for (const r of rest) {
    const same = r.labels.length === first.labels.length && r.labels.every((l, i) => labelKey(l) === labelKey(first.labels[i]));
    if (!same) {
      throw new FoolError(
        'MISMATCH',
        `run ${r.id} (${r.model}, ${r.classes} classes) and run ${first.id} (${first.model}, ${first.classes} classes) have different label sets`,
        'Run one experiment per label set (e.g. the MNIST runs apart from the ImageNet runs)',
      );
    }
  }
}

/** Refuses a model that does not have the run's classes at the same indices. */
export function checkModelHasClasses(run: RunRow, info: ModelInfo): void {
  const name = info.manifest.name;
  if (info.labels.length < run.labels.length) {
    throw new FoolError(
      'MISMATCH',
      `model "${name}" has ${info.labels.length} classes but run ${run.id} was evolved over ${run.labels.length} (${run.model})`,
      'Choose a model trained on the same classes (fool models show NAME lists them)',
    );
  }
  const bad = run.labels.findIndex((l, i) => labelKey(l) !== labelKey(info.labels[i]));
  if (bad >= 0) {
    throw new FoolError(
      'MISMATCH',
      `model "${name}" does not have run ${run.id}'s classes: class ${bad} is "${info.labels[bad]}" there but "${run.labels[bad]}" in the run`,
      'Register the model with the same labels file (and --label-offset) as the run\'s model',
    );
  }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
