import type { TransferImage, TransferPair, TransferResult } from '../../../shared/experiment-results';
import { FoolError } from '../../../shared/errors';
import type { ModelInfo } from '../../../shared/manifest';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import { ExperimentStore } from '../store/experiments';
import type { RunRow } from '../store/runs';
import { stack } from '../models/image';
import { fitToModel } from '../models/resize';
import { championPixels, checkModelHasClasses, checkSameLabels, median, type ChampionPixels } from './images';

/**
 * Transferability (paper section 3.2): the champions evolved (or ascended) against model A,
 * shown to other models B. For each (A, B): the share of images that B labels with the same class
 * at >= 99% and >= 99.99%, the median confidence, and every image's confidence. A is always
 * among the targets, re-classified, so the diagonal is the sanity check (100% of what A had).
 */

export interface TransferParams {
  runs: number[];
  models: string[];
}




/** Everything checked before any image is rendered or model opened. */
export function planTransfer(lab: Lab, params: TransferParams): { runs: RunRow[]; targets: ModelInfo[] } {
  if (params.runs.length === 0) throw new FoolError('BAD_INPUT', 'no runs given', 'Pass --runs 1,2,...');
  const runs = params.runs.map((id) => lab.runs.get(id));
  checkSameLabels(runs);
  for (const r of runs) if (r.lastGeneration < 0) throw new FoolError('BAD_INPUT', `run ${r.id} has no champions yet`, 'Run at least one generation');
  // The runs' own models first (the diagonal), then the asked ones, each once.
  const names = [...new Set([...runs.map((r) => r.model), ...params.models])];
  const targets = names.map((n) => lab.models.get(n));
  for (const t of targets) for (const r of runs) checkModelHasClasses(r, t);
  return { runs, targets };
}

const share = (xs: number[], min: number) => (xs.length ? xs.filter((x) => x >= min).length / xs.length : 0);

export async function runTransfer(lab: Lab, params: TransferParams, opts: { classifier?: ClassifierOptions; onModel?: (name: string) => void; onCreated?: (id: number) => void; signal?: AbortSignal } = {}): Promise<{ id: number; result: TransferResult }> {
  const { runs, targets } = planTransfer(lab, params);
  const store = new ExperimentStore(lab.db);
  const id = store.create('transfer', params);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const champs: ChampionPixels[] = runs.flatMap((r) => championPixels(lab, r.id));
  const images: TransferImage[] = champs.map((c) => ({ runId: c.runId, class: c.class, label: c.label, individualId: c.individualId, confidence: {} }));
  // Cancelled: the models classified so far are the result's targets.
  const classified: typeof targets = [];
  for (const t of targets) {
    if (opts.signal?.aborted) break;
    classified.push(t);
    opts.onModel?.(t.manifest.name);
    const batch = stack(await Promise.all(champs.map((c) => fitToModel(c.image, t.manifest.input))));
    const c = await lab.openClassifier(t.manifest.name, opts.classifier);
    try {
      const probs = await c.classify(batch);
      champs.forEach((ch, i) => (images[i].confidence[t.manifest.name] = probs[i * c.classes + ch.class]));
    } finally {
      await c.close();
    }
  }
  const modelOf = new Map(runs.map((r) => [r.id, r.model]));
  const sources = [...new Set(runs.map((r) => r.model))];
  const pairs: TransferPair[] = [];
  for (const s of sources) {
    const mine = images.filter((im) => modelOf.get(im.runId) === s);
    for (const t of classified.map((x) => x.manifest.name)) {
      const conf = mine.map((im) => im.confidence[t]);
      const top = mine.filter((im) => im.confidence[s] >= 0.9999);
      pairs.push({
        source: s,
        target: t,
        images: mine.length,
        at99: share(conf, 0.99),
        at9999: share(conf, 0.9999),
        median: median(conf),
        at9999GivenSource: top.length ? share(top.map((im) => im.confidence[t]), 0.9999) : null,
      });
    }
  }
  const result: TransferResult = { sources, targets: classified.map((t) => t.manifest.name), pairs, images, seconds: (performance.now() - t0) / 1000 };
  store.setResult(id, result);
  return { id, result };
}

export type { TransferImage, TransferPair, TransferResult };
