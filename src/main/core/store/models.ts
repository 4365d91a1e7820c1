import type { Db } from './db';

/**
 * The models a user added to this lab (migration 1): name and manifest (JSON). The files live in
 * the folder beside the database (models/registry.ts copies them there); shipped models are not here.
 */

export interface ModelRow {
  name: string;
  /** The manifest as stored, parsed JSON (the registry validates it). */
  manifest: unknown;
}

export class ModelStore {
  constructor(private readonly db: Db) {}

  /** By name. */
  list(): ModelRow[] {
    const rows = this.db.prepare('SELECT name, manifest FROM models ORDER BY name').all() as { name: string; manifest: string }[];
    return rows.map((r) => ({ name: r.name, manifest: JSON.parse(r.manifest) as unknown }));
  }

  add(name: string, manifest: object): void {
    this.db.prepare('INSERT INTO models (name, manifest) VALUES (?, ?)').run(name, JSON.stringify(manifest));
  }

  remove(name: string): void {
    this.db.prepare('DELETE FROM models WHERE name = ?').run(name);
  }
}
