import { formatConfidence } from '../../../shared/confidence';
import type { AblationResult } from './ablation';
import type { ReproduceResult } from './reproduce';
import type { RetrainResult } from './retrain';
import type { TransferResult } from './transfer';

/** The experiments' result tables as rows of strings: the CLI prints them, the report puts them in HTML. */

/** Shares, accuracies and drops; confidences go through formatConfidence. */
export const pct = (p: number | null, digits = 2): string => (p === null || !Number.isFinite(p) ? '-' : `${(p * 100).toFixed(digits)}%`);
const conf = formatConfidence;

export function transferTable(r: TransferResult): string[][] {
  return [
    ['source', 'target', 'images', '>= 99%', '>= 99.99%', 'median', '99.99% on both / 99.99% on source'],
    ...r.pairs.map((p) => [p.source, p.target, String(p.images), pct(p.at99, 1), pct(p.at9999, 1), conf(p.median), pct(p.at9999GivenSource, 1)]),
  ];
}

export function transferImagesTable(r: TransferResult): string[][] {
  return [['run', 'class', 'label', ...r.targets], ...r.images.map((im) => [String(im.runId), String(im.class), im.label, ...r.targets.map((t) => conf(im.confidence[t]))])];
}

export function retrainTable(r: RetrainResult): string[][] {
  return [
    ['iteration', 'model', 'test accuracy', 'fooling images', 'runs', 'median best confidence', 'generations to 99.99% (median)'],
    ...r.iterations.map((it) => [
      `DNN_${it.iteration}`,
      it.model,
      pct(it.testAccuracy),
      String(it.foolingImages),
      String(it.runs.length),
      conf(it.medianConfidence),
      it.generationsTo9999 === null ? 'not reached' : String(it.generationsTo9999),
    ]),
  ];
}

export function ablationTable(r: AblationResult): string[][] {
  const s = r.summary;
  return [
    ['', 'remove repeats', 'random control (same area)'],
    ['champions with repeats', `${s.withRepeats}/${s.champions}`, `${s.withRepeats}/${s.champions}`],
    ['confidence dropped', pct(s.droppedShare, 1), pct(s.controlDroppedShare, 1)],
    ['median drop', pct(s.medianDrop), pct(s.controlMedianDrop)],
    ['mean drop', pct(s.meanDrop), pct(s.controlMeanDrop)],
    ['drop larger than control', pct(s.ablationWorseShare, 1), ''],
  ];
}

export function ablationImagesTable(r: AblationResult): string[][] {
  return [
    ['class', 'label', 'copies', 'before', 'repeats removed', 'control', 'pixels'],
    ...r.images.map((i) => [String(i.class), i.label, String(i.copies), conf(i.before), conf(i.ablated), conf(i.control), String(i.maskedPixels)]),
  ];
}

/** One row per run: the README's reproduction table. */
export function reproduceTable(r: ReproduceResult): string[][] {
  const c = r.checkpoint, g = r.generations, k = r.classes;
  return [
    ['seed', 'encoding', `first generation with ${k}/${k} at >= 99.99%`, `median at ${c}`, `cells >= 99.99% at ${c}`, `below 99.99% at ${c}`, `median at ${g}`, `cells >= 99.99% at ${g}`, 'run', 'seconds'],
    ...r.rows.map((x) => [
      String(x.seed),
      x.encoding,
      x.firstAllAt9999 === null ? 'not reached' : String(x.firstAllAt9999),
      conf(x.medianAtCheckpoint),
      `${x.at9999AtCheckpoint}/${k}`,
      x.laggingAtCheckpoint.join(' ') || '-',
      conf(x.medianAtEnd),
      `${x.at9999AtEnd}/${k}`,
      String(x.runId),
      x.seconds.toFixed(1),
    ]),
  ];
}

/** The paper's two claims, counted over the runs. */
export function reproduceVerdict(r: ReproduceResult): string[] {
  const n = r.rows.length;
  return [
    `All ${r.classes} classes at >= 99.99% by generation ${r.checkpoint}: ${r.allByCheckpoint}/${n} runs (paper: every run).`,
    `Median >= 99.99% at generation ${r.generations}: ${r.medianAtEndAt9999}/${n} runs (paper: 99.99%).`,
  ];
}
