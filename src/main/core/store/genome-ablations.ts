import { FoolError } from '../../../shared/errors';
import type { GenomeEdit } from '../../../shared/genome';
import type { AblationPrediction } from './ablations';
import type { Db } from './db';

/** Ablations in the genome saved from the app's CPPN panel (migration 6): the edits, the re-rendered image, the confidences. */

export interface NewGenomeAblation {
  runId: number;
  individualId: number;
  class: number;
  edits: GenomeEdit[];
  confidenceBefore: number;
  confidenceAfter: number;
  top: AblationPrediction[];
  /** The re-rendered image as PNG. */
  png: Uint8Array;
  note?: string | null;
}

export interface GenomeAblationRow {
  ablationId: number;
  runId: number;
  individualId: number;
  class: number;
  edits: GenomeEdit[];
  confidenceBefore: number;
  confidenceAfter: number;
  top: AblationPrediction[];
  note: string | null;
  createdAt: string;
}

interface Raw {
  id: number;
  run_id: number;
  individual_id: number;
  class: number;
  edits: string;
  confidence_before: number;
  confidence_after: number;
  top: string;
  note: string | null;
  created_at: string;
}

const COLUMNS = 'id, run_id, individual_id, class, edits, confidence_before, confidence_after, top, note, created_at';

const toRow = (r: Raw): GenomeAblationRow => ({
  ablationId: r.id,
  runId: r.run_id,
  individualId: r.individual_id,
  class: r.class,
  edits: JSON.parse(r.edits) as GenomeEdit[],
  confidenceBefore: r.confidence_before,
  confidenceAfter: r.confidence_after,
  top: JSON.parse(r.top) as AblationPrediction[],
  note: r.note,
  createdAt: r.created_at,
});

export class GenomeAblationStore {
  constructor(private readonly db: Db) {}

  add(a: NewGenomeAblation): GenomeAblationRow {
    const r = this.db
      .prepare('INSERT INTO genome_ablations (run_id, individual_id, class, edits, confidence_before, confidence_after, top, image, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.runId, a.individualId, a.class, JSON.stringify(a.edits), a.confidenceBefore, a.confidenceAfter, JSON.stringify(a.top), Buffer.from(a.png.buffer, a.png.byteOffset, a.png.byteLength), a.note ?? null);
    return this.get(Number(r.lastInsertRowid));
  }

  get(id: number): GenomeAblationRow {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM genome_ablations WHERE id = ?`).get(id) as Raw | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no genome ablation ${id} in this lab`);
    return toRow(r);
  }

  /** The genome ablations of one individual, oldest first. */
  list(runId: number, individualId: number): GenomeAblationRow[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM genome_ablations WHERE run_id = ? AND individual_id = ? ORDER BY id`).all(runId, individualId) as Raw[]).map(toRow);
  }

  /** The saved image (PNG). */
  png(id: number): Uint8Array {
    const r = this.db.prepare('SELECT image FROM genome_ablations WHERE id = ?').get(id) as { image: Buffer } | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no genome ablation ${id} in this lab`);
    return new Uint8Array(r.image);
  }
}
