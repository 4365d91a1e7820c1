import type { SelfCheck } from '../../../shared/manifest';
import type { Db } from './db';

/**
 * The models a user added to this lab (migration 1): name, manifest (JSON) and the preprocessing
 * self-check of its registration (migration 9; NULL when skipped). The files live in the folder
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

  /** False when there was no such row. */
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }
}
