import type { ArchiveStats, Candidate, EvolutionSettings, Genome } from '../../../shared/engine';
import { Archive, type ArchiveSnapshot } from './archive';
import type { GenomeEncoding } from './encoding';
import { encodingOf } from './encodings';
import { Rng } from './rng';

/**
 * The ask/tell loop (pyribs-style): ask() gives a batch to evaluate, tell() takes its probabilities.
 * Evaluation (rendering, classification) lives outside.
 *
 * Determinism: candidate i of generation g draws all its randomness (parent choice, crossover,
 * mutation, or its random genome at g = 0) from Rng.of(seed, g, i), and its id is g * 1e6 + i. A
 * generation therefore depends only on (settings, seed, g, the archive after g - 1), which is exactly
 * what a resumed scheduler is given.
 */

export const ID_STRIDE = 1_000_000;
export const individualId = (generation: number, index: number): number => generation * ID_STRIDE + index;

export interface TellResult {
  generation: number;
  /** Per candidate (in ask order): the classes it won, ascending; empty if none. */
  won: number[][];
  stats: ArchiveStats;
}

export interface SchedulerOptions {
  settings: EvolutionSettings;
  seed: number;
  numClasses: number;
  /**
   * Resume: the last generation whose results are in `archive` (committed). The next ask() makes
   * generation lastGeneration + 1. Omit both for a fresh run (the next ask() is generation 0).
   */
  lastGeneration?: number;
  archive?: ArchiveSnapshot;
}

export class Scheduler {
  readonly settings: EvolutionSettings;
  readonly seed: number;
  readonly archive: Archive;
  /** The settings' encoding: makes random genomes and children. */
  private readonly encoding: GenomeEncoding;
  private next: number;
  private pending: Candidate[] | null = null;

  constructor(o: SchedulerOptions) {
    if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
    if ((o.lastGeneration === undefined) !== (o.archive === undefined)) {
      throw new RangeError('resume needs both lastGeneration and archive');
    }
    const size = Math.max(o.settings.initSize, o.settings.batchSize);
    if (size > ID_STRIDE) throw new RangeError(`batches over ${ID_STRIDE} would break individual ids`);
    this.settings = o.settings;
    this.encoding = encodingOf(o.settings.encoding);
    this.seed = o.seed;
    this.archive = o.archive ? Archive.restore(o.archive) : new Archive(o.numClasses);
    if (this.archive.numClasses !== o.numClasses) throw new RangeError('archive snapshot has another number of classes');
    this.next = o.lastGeneration === undefined ? 0 : o.lastGeneration + 1;
  }

  /** The generation the next ask() makes. */
  get generation(): number {
    return this.next;
  }

  /** True once generation settings.generations has been told. */
  get done(): boolean {
    return this.next > this.settings.generations;
  }

  /** State to persist after each tell (with the genomes of the elites): enough to resume. */
  snapshot(): { lastGeneration: number; archive: ArchiveSnapshot } {
    if (this.next === 0) throw new Error('nothing to snapshot before generation 0 is told');
    return { lastGeneration: this.next - 1, archive: this.archive.snapshot() };
  }

  /** The batch of the current generation. Asking again before tell() returns the same batch. */
  ask(): Candidate[] {
    if (this.pending) return this.pending;
    const g = this.next;
    const s = this.settings;
    const batch: Candidate[] = [];
    if (g === 0) {
      for (let i = 0; i < s.initSize; i++) {
        batch.push({ individualId: individualId(0, i), parentId: null, generation: 0, genome: this.randomGenome(Rng.of(this.seed, 0, i)) });
      }
    } else {
      const pool = this.archive.occupied();
      if (pool.length === 0) throw new Error('empty archive: tell generation 0 first');
      for (let i = 0; i < s.batchSize; i++) {
        const rng = Rng.of(this.seed, g, i);
        const parent = rng.choice(pool);
        const child = this.encoding.vary(parent, pool, s, g, rng);
        const c: Candidate = { individualId: individualId(g, i), parentId: parent.individualId, generation: g, genome: child.genome };
        if (child.secondParentId !== undefined) c.secondParentId = child.secondParentId;
        batch.push(c);
      }
    }
    this.pending = batch;
    return batch;
  }

  /** Probabilities of the asked batch, candidate-major: probs[i * numClasses + c]. */
  tell(probs: Float32Array): TellResult {
    const batch = this.pending;
    if (!batch) throw new Error('tell() without a pending ask()');
    const K = this.archive.numClasses;
    if (probs.length !== batch.length * K) throw new RangeError(`expected ${batch.length * K} probabilities, got ${probs.length}`);
    const won = batch.map((c, i) => this.archive.insert(c, probs.subarray(i * K, (i + 1) * K)));
    const generation = this.next;
    this.pending = null;
    this.next++;
    return { generation, won, stats: this.archive.stats() };
  }

  private randomGenome(rng: Rng): Genome {
    return this.encoding.random(this.settings, rng);
  }
}
