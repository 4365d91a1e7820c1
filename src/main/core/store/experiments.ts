import { FoolError } from '../../../shared/errors';
import type { Db } from './db';

/**
 * The paper's experiments (transfer, retraining, repetition ablation, the MNIST reproduction): what was asked (params) and
 * what came out (result), both JSON, so a report can be rendered again later from the database.
 */

/** 'transfer' | 'retrain' | 'ablation' | 'reproduce', or any kind registered in experiments/registry.ts. */
export type ExperimentKind = string;

export interface ExperimentRow<P = unknown, R = unknown> {
  id: number;
  kind: ExperimentKind;
  params: P;
  /** null while it runs (or when it failed before finishing). */
  result: R | null;
  createdAt: string;
}

interface Raw {
  id: number;
  kind: ExperimentKind;
  params: string;
  result: string | null;
  created_at: string;
}

const toRow = (r: Raw): ExperimentRow => ({
  id: r.id,
  kind: r.kind,
  params: JSON.parse(r.params) as unknown,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  createdAt: r.created_at,
});

export class ExperimentStore {
  constructor(private readonly db: Db) {}

  create(kind: ExperimentKind, params: unknown): number {
    const r = this.db.prepare('INSERT INTO experiments (kind, params) VALUES (?, ?)').run(kind, JSON.stringify(params));
    return Number(r.lastInsertRowid);
  }

  /** Partial results (retraining writes one iteration at a time) and the final one alike. */
  setResult(id: number, result: unknown): void {
    this.db.prepare('UPDATE experiments SET result = ? WHERE id = ?').run(JSON.stringify(result), id);
  }

  get(id: number): ExperimentRow {
    const r = this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as Raw | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no experiment ${id} in this lab`, 'List them with "fool experiments list"');
    return toRow(r);
  }

  list(): ExperimentRow[] {
    return (this.db.prepare('SELECT * FROM experiments ORDER BY id').all() as Raw[]).map(toRow);
  }
}
