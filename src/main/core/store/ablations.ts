import { FoolError } from '../../../shared/errors';
import type { Db } from './db';
import { blob, SAVED_ABLATION_COLUMNS, savedAblation, type AblationPrediction, type SavedAblation, type SavedAblationRaw } from './saved-ablation';

/** Ablations saved from the ablation tool (migration 3): mask, fill, ablated image and confidences. */

export type { AblationPrediction } from './saved-ablation';

export interface NewAblation {
  runId: number;
  individualId: number;
  class: number;
  fill: string;
  /** One byte per pixel, non-zero = replaced. */
  mask: Uint8Array;
  maskedPixels: number;
  confidenceBefore: number;
  confidenceAfter: number;
  top: AblationPrediction[];
  /** The ablated image as PNG. */
  png: Uint8Array;
  note?: string | null;
}

export interface AblationRow extends SavedAblation {
  fill: string;
  maskedPixels: number;
}

type Raw = SavedAblationRaw & { fill: string; masked_pixels: number };

const COLUMNS = `${SAVED_ABLATION_COLUMNS}, fill, masked_pixels`;

const toRow = (r: Raw): AblationRow => ({ ...savedAblation(r), fill: r.fill, maskedPixels: r.masked_pixels });

export class AblationStore {
  constructor(private readonly db: Db) {}

  add(a: NewAblation): AblationRow {
    const r = this.db
      .prepare(
        'INSERT INTO ablations (run_id, individual_id, class, fill, mask, masked_pixels, confidence_before, confidence_after, top, image, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.runId, a.individualId, a.class, a.fill, blob(a.mask), a.maskedPixels, a.confidenceBefore, a.confidenceAfter, JSON.stringify(a.top), blob(a.png), a.note ?? null);
    return this.get(Number(r.lastInsertRowid));
  }

  get(id: number): AblationRow {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM ablations WHERE id = ?`).get(id) as Raw | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no ablation ${id} in this lab`);
    return toRow(r);
  }

  /** The ablations of one individual, oldest first. */
  list(runId: number, individualId: number): AblationRow[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM ablations WHERE run_id = ? AND individual_id = ? ORDER BY id`).all(runId, individualId) as Raw[]).map(toRow);
  }

  /** The saved image (PNG) and mask of an ablation. */
  files(id: number): { png: Uint8Array; mask: Uint8Array } {
    const r = this.db.prepare('SELECT image, mask FROM ablations WHERE id = ?').get(id) as { image: Buffer; mask: Buffer } | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no ablation ${id} in this lab`);
    return { png: new Uint8Array(r.image), mask: new Uint8Array(r.mask) };
  }
}
