import type { AblatedImage, AblationSummary, AblationResult } from '../../../shared/experiment-results';
import { FoolError } from '../../../shared/errors';
import { Rng } from '../engine/rng';
import { controlMask } from '../analysis/copies';
import { ablate, boxesMask, detectMotifs, type Box, type Fill, type MotifOptions } from '../analysis/motifs';
import type { Image } from '../models/image';
import type { Lab } from '../lab';
import type { Classifier, ClassifierOptions } from '../models/classifier';
import { ExperimentStore } from '../store/experiments';
import { stack } from '../models/image';
import { championImages, median } from './images';

/**
 * The repetition ablation, automatic (paper section 3.4: "removing repeated elements lowers the
 * confidence: repetition helps"). For each champion: detect repeated motifs with the same core as
 * the app's ablation tool (analysis/motifs), blank all copies but one of the strongest motif,
 * re-classify; as a control, blank boxes of the same sizes at random places away from the copies.
 * If confidence drops after removing copies but not after removing as much area elsewhere, the
 * repetition is what mattered.
 */

export interface AblationParams {
  runId: number;
  fill: Fill;
  /** Seed of the control's random placement. */
  seed: number;
}




export { controlMask };

export interface ImageAblation {
  copies: Box[];
  ablated: Image | null;
  control: Image | null;
  maskedPixels: number;
  controlPixels: number;
}

const centre = (b: Box) => [b.x + b.width / 2, b.y + b.height / 2];

/**
 * The ablated and control images of one picture (pure: pixels in, pixels out). The detector's
 * boxes are patch-aligned, so one element can show up as several groups (shifted patches of the
 * same motif): every group keeps the copy nearest the strongest group's first copy, and all its
 * other copies are removed. What one kept copy covers is never removed.
 */
export function ablateRepeats(img: Image, fill: Fill, random: () => number, motif?: MotifOptions): ImageAblation {
  const groups = detectMotifs(img, motif);
  if (groups.length === 0) return { copies: [], ablated: null, control: null, maskedPixels: 0, controlPixels: 0 };
  const [ax, ay] = centre(groups[0].copies[0]);
  const kept: Box[] = [];
  const removed: Box[] = [];
  for (const g of groups) {
    const d = g.copies.map((c) => Math.hypot(centre(c)[0] - ax, centre(c)[1] - ay));
    const k = d.indexOf(Math.min(...d));
    g.copies.forEach((c, i) => (i === k ? kept : removed).push(c));
  }
  const keep = boxesMask(img.width, img.height, kept);
  const mask = boxesMask(img.width, img.height, removed);
  for (let i = 0; i < mask.length; i++) if (keep[i]) mask[i] = 0;
  const all = boxesMask(img.width, img.height, [...kept, ...removed]);
  const a = ablate(img, mask, fill);
  const ctrl = ablate(img, controlMask(mask, all, img.width, img.height, random), fill);
  return { copies: groups[0].copies, ablated: a.image, control: ctrl.image, maskedPixels: a.maskedPixels, controlPixels: ctrl.maskedPixels };
}

export function summarize(images: AblatedImage[]): AblationSummary {
  const rep = images.filter((i) => i.ablated !== null);
  const drops = rep.map((i) => i.before - i.ablated!);
  const cdrops = rep.map((i) => i.before - i.control!);
  const share = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : Number.NaN);
  return {
    champions: images.length,
    withRepeats: rep.length,
    droppedShare: share(drops.map((d) => d > 1e-4)),
    controlDroppedShare: share(cdrops.map((d) => d > 1e-4)),
    medianDrop: median(drops),
    meanDrop: mean(drops),
    controlMedianDrop: median(cdrops),
    controlMeanDrop: mean(cdrops),
    ablationWorseShare: share(drops.map((d, i) => d > cdrops[i])),
  };
}

/** Confidence for `cls` of each image, under the run's model. */
async function confidences(c: Classifier, images: Image[], classes: number[]): Promise<number[]> {
  if (images.length === 0) return [];
  const probs = await c.classify(stack(images));
  return classes.map((k, i) => probs[i * c.classes + k]);
}

export async function runAblation(lab: Lab, params: AblationParams, opts: { classifier?: ClassifierOptions; motif?: MotifOptions; signal?: AbortSignal; onProgress?: (done: number, total: number) => void; onCreated?: (id: number) => void } = {}): Promise<{ id: number; result: AblationResult }> {
  const run = lab.runs.get(params.runId);
  if (run.lastGeneration < 0) throw new FoolError('BAD_INPUT', `run ${run.id} has no champions yet`, 'Run at least one generation');
  lab.models.forRun(run);
  const store = new ExperimentStore(lab.db);
  const id = store.create('ablation', params);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const champs = lab.runs.champions(run.id);
  // Seeded like the engine, so the control is reproducible.
  const gen = Rng.of(params.seed);
  const random = () => gen.float();
  const classifier = await lab.openClassifier(run.model, opts.classifier);
  const images: AblatedImage[] = [];
  const championImage = championImages(lab);
  let done = true;
  try {
    // One champion at a time, so a cancel stops between champions and keeps those already done.
    // Each is rendered and ablated in its turn, not all before the first: that held the host's
    // thread (1000 ImageNet champions: a server that answered nothing, Ctrl-C included, for over
    // a minute). The placements are drawn in champion order either way, so a partial pass agrees
    // with a full one.
    opts.onProgress?.(0, champs.length);
    for (const [i, c] of champs.entries()) {
      if (opts.signal?.aborted) {
        done = false;
        break;
      }
      const image = championImage(run.id, c.individualId);
      const w = { c: { ...c, image }, a: ablateRepeats(image, params.fill, random, opts.motif) };
      const shown = [w.c.image, ...(w.a.ablated ? [w.a.ablated, w.a.control!] : [])];
      const conf = await confidences(classifier, shown, shown.map(() => w.c.class));
      images.push({
        class: w.c.class,
        label: w.c.label,
        individualId: w.c.individualId,
        copies: w.a.copies.length,
        before: conf[0],
        ablated: w.a.ablated ? conf[1] : null,
        control: w.a.ablated ? conf[2] : null,
        maskedPixels: w.a.maskedPixels,
        controlPixels: w.a.controlPixels,
      });
      opts.onProgress?.(i + 1, champs.length);
    }
  } finally {
    await classifier.close();
  }
  const result: AblationResult = { runId: run.id, model: run.model, images, summary: summarize(images), done, seconds: (performance.now() - t0) / 1000 };
  store.setResult(id, result);
  return { id, result };
}

export type { AblatedImage, AblationSummary, AblationResult };
