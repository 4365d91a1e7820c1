import type { ArchiveStats, Candidate, EvolutionSettings, Genome } from '../../../shared/engine';
import { Archive, type ArchiveSnapshot, type Elite } from './archive';
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
  /** The current generation while askRange() makes it piece by piece (before ask() completes it). */
  private partial: { batch: Candidate[]; pool: Elite[] } | null = null;

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

  /** How many candidates the current generation has. */
  get batchSize(): number {
    return this.next === 0 ? this.settings.initSize : this.settings.batchSize;
  }

  /** The batch of the current generation. Asking again before tell() returns the same batch. */
  ask(): Candidate[] {
    if (this.pending) return this.pending;
    const batch = this.making();
    while (batch.length < this.batchSize) batch.push(this.make(batch.length));
    this.pending = batch;
    this.partial = null;
    return batch;
  }

  /**
   * Candidates [start, end) of the current generation, made now if they were not yet: an
   * evaluation can start on the first ones while the rest are made. Each candidate depends only on
   * (seed, generation, index) and the archive, so they are the very candidates ask() returns.
   */
  askRange(start: number, end: number): Candidate[] {
    if (this.pending) return this.pending.slice(start, end);
    const batch = this.making();
    const stop = Math.min(end, this.batchSize);
    while (batch.length < stop) batch.push(this.make(batch.length));
    return batch.slice(start, end);
  }

  /** The current generation's candidates made so far, and the parents they are drawn from. */
  private making(): Candidate[] {
    if (!this.partial) {
      const pool = this.next === 0 ? [] : this.archive.occupied();
      if (this.next > 0 && pool.length === 0) throw new Error('empty archive: tell generation 0 first');
      this.partial = { batch: [], pool };
    }
    return this.partial.batch;
  }

  /** Candidate i of the current generation (making() has been called). */
  private make(i: number): Candidate {
    const g = this.next;
    const s = this.settings;
    if (g === 0) return { individualId: individualId(0, i), parentId: null, generation: 0, genome: this.randomGenome(Rng.of(this.seed, 0, i)) };
    const pool = this.partial!.pool;
    const rng = Rng.of(this.seed, g, i);
    const parent = rng.choice(pool);
    const child = this.encoding.vary(parent, pool, s, g, rng);
    const c: Candidate = { individualId: individualId(g, i), parentId: parent.individualId, generation: g, genome: child.genome };
    if (child.secondParentId !== undefined) c.secondParentId = child.secondParentId;
    return c;
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
