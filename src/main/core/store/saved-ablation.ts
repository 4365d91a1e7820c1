/**
 * What the two kinds of saved ablation (pixels: ablations.ts; genome: genome-ablations.ts) share:
 * one individual, its class, the confidences before and after, the new top-k, a note. Each store
 * adds its own columns (mask and fill; edits) to these.
 */

export interface AblationPrediction {
  class: number;
  label: string;
  confidence: number;
}

export interface SavedAblation {
  ablationId: number;
  runId: number;
  individualId: number;
  class: number;
  confidenceBefore: number;
  confidenceAfter: number;
  top: AblationPrediction[];
  note: string | null;
  createdAt: string;
}

/** The shared columns as SQLite returns them. */
export interface SavedAblationRaw {
  id: number;
  run_id: number;
  individual_id: number;
  class: number;
  confidence_before: number;
  confidence_after: number;
  top: string;
  note: string | null;
  created_at: string;
}

export const SAVED_ABLATION_COLUMNS = 'id, run_id, individual_id, class, confidence_before, confidence_after, top, note, created_at';

export const savedAblation = (r: SavedAblationRaw): SavedAblation => ({
  ablationId: r.id,
  runId: r.run_id,
  individualId: r.individual_id,
  class: r.class,
  confidenceBefore: r.confidence_before,
  confidenceAfter: r.confidence_after,
  top: JSON.parse(r.top) as AblationPrediction[],
  note: r.note,
  createdAt: r.created_at,
});

/** A typed array as the Buffer better-sqlite3 stores as a BLOB, without copying. */
export const blob = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
