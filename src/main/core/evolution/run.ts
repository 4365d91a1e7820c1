import { defaultSettings, EvolutionSettingsSchema, type Candidate, type Encoding, type EvolutionSettings, type GenerationStats, type Genome } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { limitProblem } from '../../../shared/limits';
import type { ModelInfo } from '../../../shared/manifest';
import type { ArchiveSnapshot, Elite } from '../engine/archive';
import type { GenomeEncoding } from '../engine/encoding';
import { encodingOf } from '../engine/encodings';
import { renderOptions } from '../engine/render';
import { Scheduler } from '../engine/scheduler';
import { Classifier, type ClassifierOptions } from '../models/classifier';
import { cpuCount } from '../models/provider';
import { imageShapeFor } from '../models/resize';
import { topK } from '../models/top-k';
import type { Lab } from '../lab';
import type { ClassProb, RunRow, StoredIndividual } from '../store/runs';
import { Evaluator } from './evaluator';

export interface EvolveRequest {
  model: string;
  encoding: Encoding;
  generations?: number;
  /** Sets both initSize and batchSize (the paper uses the same number). */
  batch?: number;
  seed?: number;
  /** Any other setting of EvolutionSettings, e.g. { cppn: { coordinates: 'normalized' } }. */
  overrides?: Record<string, unknown>;
  /** Fitness = the softmax averaged over 10 crops (the original's); kept with the run for resume. */
  tenCrop?: boolean;
}

export interface GenerationReport {
  runId: number;
  generation: number;
  generations: number;
  stats: GenerationStats;
  evaluationsPerSecond: number;
  seconds: number;
  /**
   * The loop's time per generation, wall: from the end of the previous generation's database commit
   * (or the loop's start) to the end of this one's. The next generation is asked and sent to the
   * workers before this one is committed, so in a steady run this is everything a generation costs:
   * ask, render + classify, archive, commit. (`seconds` runs from this generation's ask to its
   * archive update, before the commit.)
   */
  loopSeconds: number;
  /** The run's totals after this generation, earlier sessions included: what its row now holds. */
  runEvaluations: number;
  runSeconds: number;
  /** The execution provider this session classifies on. */
  provider: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onGeneration?: (r: GenerationReport) => void;
  classifier?: ClassifierOptions;
  renderWorkers?: number;
}

export interface RunSummary {
  run: RunRow;
  stopped: boolean;
  seconds: number;
  evaluations: number;
}

/** The paper's settings for this model (MNIST-like for grey models, ImageNet-like for colour). */
export function settingsFor(info: ModelInfo, req: EvolveRequest): EvolutionSettings {
  const shape = imageShapeFor(info);
  const base = defaultSettings(shape.channels === 1 ? 'mnist' : 'imagenet', req.encoding);
  // The image the genomes render to is the model's: an override of its size or channels would only
  // fail later (a 100000x100000 image cannot be allocated), so it is refused here.
  for (const k of ['width', 'height', 'channels'] as const) {
    const v = req.overrides?.[k];
    if (v !== undefined && v !== shape[k]) {
      throw new FoolError('BAD_INPUT', `the override ${k} = ${String(v)} does not match model "${info.manifest.name}" (${k} ${shape[k]})`, `Leave ${k} out: the image size comes from the model`);
    }
  }
  const raw: Record<string, unknown> = { ...base, ...(req.overrides ?? {}), ...shape };
  if (req.generations !== undefined) raw.generations = req.generations;
  if (req.batch !== undefined) {
    raw.initSize = req.batch;
    raw.batchSize = req.batch;
  }
  for (const k of ['generations', 'initSize', 'batchSize'] as const) {
    const v = raw[k];
    const name = k === 'generations' ? 'generations' : 'batch';
    const bad = typeof v === 'number' ? limitProblem(name, v) : 'must be a number';
    if (bad) throw new FoolError('BAD_INPUT', `${name} ${bad}, got ${String(v)}`, `Pass a ${name} in that range`);
  }
  const parsed = EvolutionSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FoolError('BAD_INPUT', `invalid evolution setting ${i.path.join('.')}: ${i.message}`, 'Check the settings given');
  }
  return parsed.data;
}

function deltaBase(encoding: GenomeEncoding, parents: Map<number, Genome> | null, parentId: number | null): StoredIndividual['deltaBase'] {
  const g = parentId === null ? undefined : parents?.get(parentId);
  return g && parentId !== null ? { id: parentId, genome: encoding.encode(g) } : undefined;
}

/** The archive as of the last committed generation, with genomes, from the store. */
export function loadArchive(lab: Lab, run: RunRow): ArchiveSnapshot {
  const champs = lab.runs.champions(run.id);
  const inds = lab.runs.championIndividuals(run.id);
  const encoding = encodingOf(run.encoding);
  const genomes = new Map<number, Genome>();
  const cells: (Elite | null)[] = new Array(run.classes).fill(null);
  for (const c of champs) {
    const ind = inds.get(c.individualId)!;
    if (!genomes.has(ind.id)) genomes.set(ind.id, encoding.decode(ind.genome));
    cells[c.class] = { individualId: ind.id, parentId: ind.parentId, generation: ind.generation, genome: genomes.get(ind.id)!, confidence: c.confidence };
  }
  return { numClasses: run.classes, cells };
}

/**
 * A MAP-Elites run against one model: ask -> render + classify (worker pipeline) -> tell ->
 * commit the generation in one transaction. Stoppable between generations; resumable from the
 * last committed generation with the same result as an uninterrupted run.
 */
export class EvolutionRun {
  private constructor(
    private readonly lab: Lab,
    readonly runId: number,
    private settings: EvolutionSettings,
    private readonly seed: number,
    private readonly info: ModelInfo,
  ) {}

  static create(lab: Lab, req: EvolveRequest): EvolutionRun {
    const info = lab.models.get(req.model);
    const settings = settingsFor(info, req);
    const seed = req.seed ?? 1;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new FoolError('BAD_INPUT', `seed must be a non-negative integer, got ${seed}`);
    // tenCrop is stored beside the parsed settings (only when on, so other runs stay as they were).
    const stored = req.tenCrop ? { ...settings, tenCrop: true } : settings;
    const runId = lab.runs.create({ kind: 'evolution', model: req.model, encoding: req.encoding, seed, settings: stored, labels: info.labels });
    return new EvolutionRun(lab, runId, settings, seed, info);
  }

  /** Reopens a run; `generations` extends (or keeps) its length. */
  static resume(lab: Lab, runId: number, generations?: number): EvolutionRun {
    const run = lab.runs.get(runId);
    if (run.kind !== 'evolution') throw new FoolError('BAD_INPUT', `run ${runId} is a ${run.kind} run, not an evolution`, 'Resume evolution runs only');
    const info = lab.models.forRun(run);
    if (info.labels.length !== run.classes) {
      throw new FoolError('MISMATCH', `model "${run.model}" now has ${info.labels.length} classes but run ${runId} was made with ${run.classes}`, 'Re-register the original model');
    }
    lab.runs.assertNotLive(runId);
    let settings = EvolutionSettingsSchema.parse(run.settings);
    const at = run.lastGeneration;
    if (generations !== undefined) {
      if (!Number.isInteger(generations) || generations <= 0) throw new FoolError('BAD_INPUT', `generations must be a positive integer, got ${generations}`, 'Pass a number >= 1');
      // The stored length only grows: a shorter one would describe a run that went past its end.
      if (generations <= at) {
        throw new FoolError('BAD_INPUT', `run ${runId} is already at generation ${at}; --generations ${generations} would not extend it`, `Pass --generations above ${at} (the new total), or export the run as it is`);
      }
      settings = { ...settings, generations };
      lab.runs.updateSettings(runId, run.settings.tenCrop === true ? { ...settings, tenCrop: true } : settings);
    } else if (at >= settings.generations) {
      throw new FoolError('BAD_INPUT', `run ${runId} already finished (generation ${at} of ${settings.generations}); there is nothing to resume`, `Pass --generations N with N above ${at} to extend it`);
    }
    return new EvolutionRun(lab, runId, settings, run.seed, info);
  }

  get generations(): number {
    return this.settings.generations;
  }

  async run(opts: RunOptions = {}): Promise<RunSummary> {
    const { lab, runId, settings, info } = this;
    const stored = lab.runs.get(runId);
    const K = info.labels.length;
    const encoding = encodingOf(settings.encoding);
    const scheduler =
      stored.lastGeneration >= 0
        ? new Scheduler({ settings, seed: this.seed, numClasses: K, lastGeneration: stored.lastGeneration, archive: loadArchive(lab, stored) })
        : new Scheduler({ settings, seed: this.seed, numClasses: K });
    if (scheduler.done) {
      lab.runs.release(runId, 'finished');
      return { run: lab.runs.get(runId), stopped: false, seconds: 0, evaluations: 0 };
    }
    lab.runs.claim(runId);
    // The render workers start while the classifier loads its model: their start-up hides behind it.
    const renderWorkers = opts.renderWorkers ?? Math.max(1, Math.min(cpuCount(), 8));
    const renderers = Evaluator.startRenderers(renderOptions(settings), renderWorkers);
    renderers.catch(() => undefined); // a failure is reported where it is awaited, below
    let classifier: Classifier;
    try {
      classifier = await Classifier.open(info, opts.classifier);
    } catch (e) {
      void renderers.then((p) => p.close(), () => undefined);
      lab.runs.release(runId, 'stopped');
      throw e;
    }
    lab.runs.setProvider(runId, classifier.provider.provider);
    let evaluator: Evaluator | undefined;
    const t0 = performance.now();
    let evaluations = 0;
    // The row's totals (commitGeneration adds each generation's), carried in the progress reports.
    let runEvaluations = stored.evaluations;
    let runSeconds = stored.seconds;
    let stopped = false;
    try {
      const tenCrop = stored.settings.tenCrop === true;
      evaluator = await Evaluator.open(classifier, renderOptions(settings), renderWorkers, tenCrop, renderers);
      // Generation g + 1 depends only on the archive after g is told (scheduler.ts), so it is asked
      // and sent to the workers before g is stored: the database commit and the bookkeeping of g
      // run while the workers render g + 1 instead of leaving them idle (issue 15, target 4).
      type Started = { batch: Candidate[]; probs: Promise<Float32Array>; g0: number; g1: number };
      const start = (): Started => {
        const g0 = performance.now();
        // The children are made chunk by chunk as the render workers are handed them, so rendering
        // starts after the first chunk's children rather than the whole generation's.
        const probs = evaluator!.evaluateBy(scheduler.batchSize, (s, e) => scheduler.askRange(s, e).map((c) => c.genome));
        const batch = scheduler.ask();
        const g1 = performance.now();
        // A generation started and then dropped by a stop must not become an unhandled rejection;
        // awaiting it below still throws.
        probs.catch(() => undefined);
        return { batch, probs, g0, g1 };
      };
      let next: Started | undefined;
      // The loop's time per generation: from the end of one commit to the end of the next.
      let period = performance.now();
      while (!scheduler.done) {
        if (opts.signal?.aborted) {
          stopped = true;
          break;
        }
        const { batch, probs: pending, g0, g1 } = next ?? start();
        next = undefined;
        const probs = await pending;
        const g2 = performance.now();
        // The parents' genomes, taken before tell() may replace them: a child (of an encoding that
        // allows it) that wins a cell is stored as the words it changed (the store falls back to the
        // whole genome when that is not smaller).
        const parents = encoding.storesDeltas ? new Map(scheduler.archive.occupied().map((e) => [e.individualId, e.genome])) : null;
        const told = scheduler.tell(probs);
        if (!scheduler.done && !opts.signal?.aborted) next = start();
        // Every candidate that took a cell is kept, with its parent: lineages reach generation 0.
        const individuals: StoredIndividual[] = [];
        const touched = new Set<number>();
        batch.forEach((c, i) => {
          const won = told.won[i];
          if (won.length === 0) return;
          const p = probs.subarray(i * K, (i + 1) * K);
          for (const cls of won) touched.add(cls);
          individuals.push({
            id: c.individualId,
            parentId: c.parentId,
            secondParentId: c.secondParentId ?? null,
            generation: c.generation,
            genome: encoding.encode(c.genome),
            won: won.map((cls) => [cls, p[cls]] as ClassProb),
            top: topK(p, 5),
            deltaBase: deltaBase(encoding, parents, c.parentId),
          });
        });
        // The archive as of this generation (asking the next one does not change it).
        const champions = [...touched].sort((a, b) => a - b).map((cls) => {
          const e = scheduler.archive.get(cls)!;
          return { class: cls, individualId: e.individualId, confidence: e.confidence };
        });
        const g3 = performance.now();
        const seconds = (g3 - g0) / 1000;
        const stats: GenerationStats = { generation: told.generation, ...told.stats, evaluationsPerSecond: seconds > 0 ? batch.length / seconds : 0, seconds };
        lab.runs.commitGeneration(runId, { individuals, champions, stats, evaluations: batch.length });
        if (process.env.FOOL_TIMINGS) process.stderr.write(`gen ${told.generation}: ask ${(g1 - g0).toFixed(1)} ms, evaluate ${(g2 - g1).toFixed(1)} ms, tell+collect ${(g3 - g2).toFixed(1)} ms, commit ${(performance.now() - g3).toFixed(1)} ms\n`);
        evaluations += batch.length;
        const now = performance.now();
        const loopSeconds = (now - period) / 1000;
        period = now;
        runEvaluations += batch.length;
        runSeconds += seconds;
        opts.onGeneration?.({ runId, generation: told.generation, generations: settings.generations, stats, evaluationsPerSecond: stats.evaluationsPerSecond, seconds, loopSeconds, runEvaluations, runSeconds, provider: classifier.provider.provider });
      }
      lab.runs.release(runId, stopped ? 'stopped' : 'finished');
    } catch (e) {
      // Still resumable from its last committed generation. On a full disk this write may fail
      // too: the original error is the one to report (the owner is dead then, so resume works).
      try {
        lab.runs.release(runId, 'failed');
      } catch {
        // reported below
      }
      throw e;
    } finally {
      await evaluator?.close();
      await classifier.close();
    }
    return { run: lab.runs.get(runId), stopped, seconds: (performance.now() - t0) / 1000, evaluations };
  }
}
