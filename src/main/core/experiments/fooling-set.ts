import { FoolError } from '../../../shared/errors';
import type { Image } from '../models/image';
import { individualImage } from '../individual-image';
import type { Lab } from '../lab';

/**
 * The images of the retraining experiment's extra "fooling" class. As the paper did, half come
 * from the first generations and half from the last: for every run and class, the first champion
 * the cell ever had (generation 0, random genomes) and its final champion, so the new class
 * holds both crude and fully evolved fooling images.
 */

export interface FoolingImage {
  runId: number;
  model: string;
  /** The class the image fooled the model into. */
  class: number;
  label: string;
  confidence: number;
  generation: number;
  individualId: number;
  /** 'first': the cell's first champion; 'last': its final one. */
  from: 'first' | 'last';
  image: Image;
}

/** `classes`: only these cells (the retraining evolves the 10 digits; the fooling cell is ignored). */
export function foolingImages(lab: Lab, runIds: number[], opts: { classes?: Set<number> } = {}): FoolingImage[] {
  const out: FoolingImage[] = [];
  for (const runId of runIds) {
    const run = lab.runs.get(runId);
    if (run.lastGeneration < 0) throw new FoolError('BAD_INPUT', `run ${runId} has no champions yet`, 'Run at least one generation');
    const want = (c: number) => !opts.classes || opts.classes.has(c);
    const first = lab.runs.firstChampions(runId).filter((c) => want(c.class));
    const last = lab.runs.champions(runId).filter((c) => want(c.class));
    const cache = new Map<number, Image>();
    const seen = new Set<number>();
    const add = (r: { class: number; individualId: number; confidence: number; generation: number }, from: 'first' | 'last') => {
      // One picture once, even when it held many cells or never lost its cell.
      if (seen.has(r.individualId)) return;
      seen.add(r.individualId);
      if (!cache.has(r.individualId)) cache.set(r.individualId, individualImage(lab, runId, r.individualId));
      out.push({ runId, model: run.model, class: r.class, label: run.labels[r.class] ?? String(r.class), confidence: r.confidence, generation: r.generation, individualId: r.individualId, from, image: cache.get(r.individualId)! });
    };
    for (const c of first) add(c, 'first');
    for (const c of last) add(c, 'last');
  }
  return out;
}
