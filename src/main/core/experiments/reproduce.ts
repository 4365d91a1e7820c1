import type { ReproduceRow, ReproduceResult } from '../../../shared/experiment-results';
import { engineOverrides, ENCODINGS, type Encoding, type EngineOptions } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { EvolutionRun, settingsFor } from '../evolution/run';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import { ExperimentStore } from '../store/experiments';

/**
 * The paper's MNIST claim as a measurement (paper-spec section 6, first row): "within 50 generations
 * every run has images of all 10 digits at >= 99.99%; by 200 generations the median is 99.99%".
 * One evolution run per (encoding, seed), each kept in the lab like any other run, and one row per
 * run: the first generation at which every class was at >= 99.99%, and the archive's median and cells
 * at >= 99.99% at the checkpoint and at the end. The claim is checked per run, not averaged.
 */

export interface ReproduceParams {
  model: string;
  encodings: Encoding[];
  seeds: number[];
  /** Length of every run (paper: 200). */
  generations: number;
  /** The generation by which every class should be at >= 99.99% (paper: 50). */
  checkpoint: number;
  /** Images per generation; omitted = the paper's (200 for MNIST). */
  batch?: number;
  /** Released-code or open choices, applied to every run. */
  options: EngineOptions;
}



export interface ReproduceProgress {
  index: number;
  total: number;
  encoding: Encoding;
  seed: number;
  runId: number;
  generation: number;
  generations: number;
  median: number;
  at9999: number;
}

const AT9999 = 0.9999;

/** Everything checked before the first run starts. */
export function planReproduce(lab: Lab, p: ReproduceParams): void {
  const info = lab.models.get(p.model);
  if (p.encodings.length === 0 || p.encodings.some((e) => !ENCODINGS.includes(e))) {
    throw new FoolError('BAD_INPUT', `encodings must be among ${ENCODINGS.join(', ')}, got "${p.encodings.join(',')}"`, 'Pass --encodings cppn,direct');
  }
  if (p.seeds.length === 0 || p.seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    throw new FoolError('BAD_INPUT', `seeds must be whole numbers >= 0, got "${p.seeds.join(',')}"`, 'Pass --seeds 1,2,3');
  }
  if (!Number.isInteger(p.checkpoint) || p.checkpoint < 0 || p.checkpoint > p.generations) {
    throw new FoolError('BAD_INPUT', `the checkpoint (${p.checkpoint}) must be a generation of the run (0..${p.generations})`, 'Pass --checkpoint at most --generations');
  }
  // The same checks a run makes (generations, batch, settings), before any work.
  for (const encoding of p.encodings) settingsFor(info, { model: p.model, encoding, generations: p.generations, batch: p.batch, overrides: engineOverrides(p.options) });
}

export async function runReproduce(
  lab: Lab,
  p: ReproduceParams,
  opts: { classifier?: ClassifierOptions; signal?: AbortSignal; onProgress?: (e: ReproduceProgress) => void; onCreated?: (id: number) => void } = {},
): Promise<{ id: number; result: ReproduceResult }> {
  planReproduce(lab, p);
  const labels = lab.models.get(p.model).labels;
  const store = new ExperimentStore(lab.db);
  const id = store.create('reproduce', p);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const result: ReproduceResult = { model: p.model, classes: labels.length, checkpoint: p.checkpoint, generations: p.generations, rows: [], allByCheckpoint: 0, medianAtEndAt9999: 0, done: false, seconds: 0 };
  const jobs = p.encodings.flatMap((encoding) => p.seeds.map((seed) => ({ encoding, seed })));
  for (const [index, { encoding, seed }] of jobs.entries()) {
    if (opts.signal?.aborted) break;
    const evo = EvolutionRun.create(lab, { model: p.model, encoding, seed, generations: p.generations, batch: p.batch, overrides: engineOverrides(p.options) });
    const summary = await evo.run({
      classifier: opts.classifier,
      signal: opts.signal,
      onGeneration: (r) => opts.onProgress?.({ index, total: jobs.length, encoding, seed, runId: evo.runId, generation: r.generation, generations: r.generations, median: r.stats.median, at9999: r.stats.at9999 }),
    });
    // A run stopped before its end does not answer the question; it stays in the lab, resumable.
    if (summary.stopped) {
      result.stoppedRun = evo.runId;
      result.seconds = (performance.now() - t0) / 1000;
      store.setResult(id, result);
      break;
    }
    result.rows.push(rowOf(lab, evo.runId, encoding, seed, p, labels, summary.seconds));
    result.allByCheckpoint = result.rows.filter((r) => r.allByCheckpoint).length;
    result.medianAtEndAt9999 = result.rows.filter((r) => r.medianAtEndAt9999).length;
    result.done = result.rows.length === jobs.length;
    result.seconds = (performance.now() - t0) / 1000;
    store.setResult(id, result);
  }
  return { id, result };
}

function rowOf(lab: Lab, runId: number, encoding: Encoding, seed: number, p: ReproduceParams, labels: string[], seconds: number): ReproduceRow {
  const stats = lab.runs.stats(runId);
  const at = (g: number) => stats.find((s) => s.generation === g) ?? stats[stats.length - 1];
  const cp = at(p.checkpoint);
  const end = at(p.generations);
  const first = stats.find((s) => s.at9999 >= labels.length);
  // The champion of each class as of the checkpoint: the last entry of its history up to then.
  const byClass = lab.runs.confidencesAsOf(runId, p.checkpoint);
  const lagging = labels.filter((_, k) => (byClass.get(k) ?? 0) < AT9999);
  const firstAllAt9999 = first ? first.generation : null;
  return {
    runId,
    encoding,
    seed,
    firstAllAt9999,
    medianAtCheckpoint: cp.median,
    at9999AtCheckpoint: cp.at9999,
    medianAtEnd: end.median,
    at9999AtEnd: end.at9999,
    laggingAtCheckpoint: lagging,
    allByCheckpoint: firstAllAt9999 !== null && firstAllAt9999 <= p.checkpoint,
    medianAtEndAt9999: end.median >= AT9999,
    seconds,
  };
}

export type { ReproduceRow, ReproduceResult };
