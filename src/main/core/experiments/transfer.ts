import type { TransferImage, TransferPair, TransferResult } from '../../../shared/experiment-results';
import { FoolError } from '../../../shared/errors';
import type { ModelInfo } from '../../../shared/manifest';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import { ExperimentStore } from '../store/experiments';
import type { RunRow } from '../store/runs';
import { stack } from '../models/image';
import { fitToModel } from '../models/resize';
import { championImages, checkModelHasClasses, checkSameLabels, median } from './images';

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
  const targets = names.map((n) => {
    const own = runs.find((r) => r.model === n);
    return own ? lab.models.forRun(own) : lab.models.get(n);
  });
  for (const t of targets) for (const r of runs) checkModelHasClasses(r, t);
  return { runs, targets };
}

const share = (xs: number[], min: number) => (xs.length ? xs.filter((x) => x >= min).length / xs.length : 0);

/** Images classified per call: a share for each worker, small enough that progress moves and a cancel lands within seconds. */
const PER_WORKER = 32;

export async function runTransfer(
  lab: Lab,
  params: TransferParams,
  opts: { classifier?: ClassifierOptions; onModel?: (name: string) => void; onProgress?: (done: number, total: number, model: string) => void; onCreated?: (id: number) => void; signal?: AbortSignal } = {},
): Promise<{ id: number; result: TransferResult }> {
  const { runs, targets } = planTransfer(lab, params);
  const store = new ExperimentStore(lab.db);
  const id = store.create('transfer', params);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const champs = runs.flatMap((r) => lab.runs.champions(r.id).map((c) => ({ ...c, runId: r.id })));
  const images: TransferImage[] = champs.map((c) => ({ runId: c.runId, class: c.class, label: c.label, individualId: c.individualId, confidence: {} }));
  // Rendered chunk by chunk as the first target needs them, and kept for the next targets.
  const image = championImages(lab);
  const total = champs.length * targets.length;
  let done = 0;
  // Cancelled: the models classified in full so far are the result's targets.
  const classified: typeof targets = [];
  for (const t of targets) {
    if (opts.signal?.aborted) break;
    const name = t.manifest.name;
    opts.onModel?.(name);
    const c = await lab.openClassifier(name, opts.classifier);
    const got = new Float64Array(champs.length);
    let complete = true;
    try {
      // In chunks (one whole batch gave no progress and took a cancel only after the last image);
      // the next chunk is rendered and resized while the workers classify this one.
      const chunk = PER_WORKER * c.workers;
      const prepare = (start: number) => Promise.all(champs.slice(start, start + chunk).map((ch) => fitToModel(image(ch.runId, ch.individualId), t.manifest.input))).then(stack);
      let next: Promise<ReturnType<typeof stack>> | null = prepare(0);
      for (let start = 0; next; start += chunk) {
        const batch = await next;
        next = null;
        const probs = c.classify(batch);
        probs.catch(() => undefined); // awaited below, after the yield: not an unhandled rejection meanwhile
        if (start + chunk < champs.length) {
          // Let the host answer (and a cancel arrive) before the next chunk's rendering holds the thread.
          await new Promise((go) => setImmediate(go));
          next = prepare(start + chunk);
          next.catch(() => undefined); // awaited above on the next turn; a failure is reported there
        }
        const p = await probs;
        for (let i = 0; i < batch.n; i++) got[start + i] = p[i * c.classes + champs[start + i].class];
        done += batch.n;
        opts.onProgress?.(done, total, name);
        // A cancel lands here, between chunks: the model cut short is dropped (no half column).
        if (next && opts.signal?.aborted) {
          complete = false;
          break;
        }
      }
    } finally {
      await c.close();
    }
    if (!complete) break;
    classified.push(t);
    images.forEach((im, i) => (im.confidence[name] = got[i]));
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
  const result: TransferResult = { sources, targets: classified.map((t) => t.manifest.name), pairs, images, done: classified.length === targets.length, seconds: (performance.now() - t0) / 1000 };
  store.setResult(id, result);
  return { id, result };
}

export type { TransferImage, TransferPair, TransferResult };
