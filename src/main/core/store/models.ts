import type { ModelEvaluation, SelfCheck } from '../../../shared/manifest';
import type { Db } from './db';

/**
 * The models a user added to this lab (migration 1): name, manifest (JSON) and the preprocessing
 * self-check of its registration (migration 9; NULL when skipped); and the evaluations of any model,
 * shipped ones included (migration 11). The files live in the folder
 * beside the database (models/registry.ts copies them there); shipped models are not here.
 */

export interface ModelRow {
  name: string;
  /** The manifest as stored, parsed JSON (the registry validates it). */
  manifest: unknown;
  /** The self-check as stored, or null. */
  selfCheck: SelfCheck | null;
}

export class ModelStore {
  constructor(private readonly db: Db) {}

  /** By name. */
  list(): ModelRow[] {
    const rows = this.db.prepare('SELECT name, manifest, self_check AS selfCheck FROM models ORDER BY name').all() as { name: string; manifest: string; selfCheck: string | null }[];
    return rows.map((r) => ({ name: r.name, manifest: JSON.parse(r.manifest) as unknown, selfCheck: r.selfCheck ? (JSON.parse(r.selfCheck) as SelfCheck) : null }));
  }

  add(name: string, manifest: object, check?: SelfCheck): void {
    this.db.prepare('INSERT INTO models (name, manifest, self_check) VALUES (?, ?, ?)').run(name, JSON.stringify(manifest), check ? JSON.stringify(check) : null);
  }

  /** False when there was no such row. Its evaluations go with it (a new model of that name starts clean). */
  remove(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM model_evaluations WHERE model = ?').run(name);
      return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
    })();
  }

  /** Keeps a model's evaluation on a test set (migration 11), replacing the one before. */
  saveEvaluation(model: string, e: Omit<ModelEvaluation, 'evaluatedAt'>): ModelEvaluation {
    this.db
      .prepare(
        `INSERT INTO model_evaluations (model, dataset, n, accuracy, seconds) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model, dataset) DO UPDATE SET n = excluded.n, accuracy = excluded.accuracy, seconds = excluded.seconds, evaluated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      )
      .run(model, e.dataset, e.n, e.accuracy, e.seconds);
    return this.evaluations().get(model)!.find((x) => x.dataset === e.dataset)!;
  }

  /** Every stored evaluation, by model name (latest first). */
  evaluations(): Map<string, ModelEvaluation[]> {
    const rows = this.db.prepare('SELECT model, dataset, n, accuracy, seconds, evaluated_at AS evaluatedAt FROM model_evaluations ORDER BY evaluated_at DESC').all() as (ModelEvaluation & { model: string })[];
    const by = new Map<string, ModelEvaluation[]>();
    for (const { model, ...e } of rows) by.set(model, [...(by.get(model) ?? []), e]);
    return by;
  }
}
