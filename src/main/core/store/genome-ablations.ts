import { FoolError } from '../../../shared/errors';
import type { GenomeEdit } from '../../../shared/genome';
import type { Db } from './db';
import { blob, SAVED_ABLATION_COLUMNS, savedAblation, type AblationPrediction, type SavedAblation, type SavedAblationRaw } from './saved-ablation';

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

export interface GenomeAblationRow extends SavedAblation {
  edits: GenomeEdit[];
}

type Raw = SavedAblationRaw & { edits: string };

const COLUMNS = `${SAVED_ABLATION_COLUMNS}, edits`;

const toRow = (r: Raw): GenomeAblationRow => ({ ...savedAblation(r), edits: JSON.parse(r.edits) as GenomeEdit[] });

export class GenomeAblationStore {
  constructor(private readonly db: Db) {}

  add(a: NewGenomeAblation): GenomeAblationRow {
    const r = this.db
      .prepare('INSERT INTO genome_ablations (run_id, individual_id, class, edits, confidence_before, confidence_after, top, image, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.runId, a.individualId, a.class, JSON.stringify(a.edits), a.confidenceBefore, a.confidenceAfter, JSON.stringify(a.top), blob(a.png), a.note ?? null);
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
