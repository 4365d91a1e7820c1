import type { ArchiveStats, Genome } from '../../../shared/engine';

/**
 * MAP-Elites archive over classes (paper-spec section 2): one cell per class, each holding the
 * individual with the highest own-class probability seen so far.
 */

export interface Individual {
  individualId: number;
  parentId: number | null;
  generation: number;
  /** Shared by reference between the cells it holds; never mutated. */
  genome: Genome;
}

export interface Elite extends Individual {
  /** Own-class probability: probs[class] of this individual. */
  confidence: number;
}

export interface ArchiveSnapshot {
  numClasses: number;
  /** One entry per class; null where empty. The same individual may appear in several cells. */
  cells: Array<Elite | null>;
}

export class Archive {
  private readonly cells: Array<Elite | null>;

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be >= 1, got ${numClasses}`);
    this.cells = new Array<Elite | null>(numClasses).fill(null);
  }

  /**
   * Offers an individual with its class probabilities (length numClasses). It takes every cell whose
   * class it scores strictly higher than the current champion (an empty cell is beaten by any
   * probability, even 0: the first image offered fills every cell). Returns the classes won, ascending.
   */
  insert(ind: Individual, probs: ArrayLike<number>): number[] {
    if (probs.length !== this.numClasses) throw new RangeError(`${probs.length} probabilities for ${this.numClasses} classes`);
    const won: number[] = [];
    for (let c = 0; c < this.numClasses; c++) {
      const p = probs[c];
      const cell = this.cells[c];
      if (cell === null || p > cell.confidence) {
        this.cells[c] = { ...ind, confidence: p };
        won.push(c);
      }
    }
    return won;
  }

  get(cls: number): Elite | null {
    return this.cells[cls];
  }

  /**
   * Parent pool: one entry per occupied cell, in class order, so a champion holding k cells is
   * k times as likely to be drawn (paper-spec section 2).
   */
  occupied(): Elite[] {
    return this.cells.filter((c): c is Elite => c !== null);
  }

  /**
   * Statistics over ALL cells of each cell's own-class confidence. An empty cell counts as confidence 0
   * (so early medians are not inflated by ignoring unfilled classes). Median of an even count is the
   * mean of the two middle values (numpy's convention).
   */
  stats(): ArchiveStats {
    const K = this.numClasses;
    const v = new Float64Array(K);
    let occupied = 0;
    let at99 = 0;
    let at9999 = 0;
    let sum = 0;
    for (let c = 0; c < K; c++) {
      const cell = this.cells[c];
      const x = cell === null ? 0 : cell.confidence;
      if (cell !== null) occupied++;
      if (x >= 0.99) at99++;
      if (x >= 0.9999) at9999++;
      v[c] = x;
      sum += x;
    }
    v.sort();
    const median = K % 2 === 1 ? v[(K - 1) / 2] : (v[K / 2 - 1] + v[K / 2]) / 2;
    return { median, mean: sum / K, max: v[K - 1], min: v[0], occupied, at99, at9999 };
  }

  /** A copy of the cells (the genomes are shared, they are immutable). */
  snapshot(): ArchiveSnapshot {
    return { numClasses: this.numClasses, cells: this.cells.map((c) => (c === null ? null : { ...c })) };
  }

  static restore(s: ArchiveSnapshot): Archive {
    if (s.cells.length !== s.numClasses) throw new RangeError(`snapshot has ${s.cells.length} cells for ${s.numClasses} classes`);
    const a = new Archive(s.numClasses);
    s.cells.forEach((c, i) => (a.cells[i] = c === null ? null : { ...c }));
    return a;
  }
}
