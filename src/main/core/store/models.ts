import type { SelfCheck } from '../../../shared/manifest';
import type { Db } from './db';

/** A user model's row: its manifest and self-check as stored (JSON), parsed by the registry. */
export interface ModelRow {
  name: string;
  manifest: string;
  selfCheck: string | null;
}

/** The SQL of the model registry (the files live in the folder beside the database). */
export class ModelStore {
  constructor(private readonly db: Db) {}

  list(): ModelRow[] {
    return this.db.prepare('SELECT name, manifest, self_check AS selfCheck FROM models ORDER BY name').all() as ModelRow[];
  }

  insert(name: string, manifest: object, check: SelfCheck | undefined): void {
    this.db.prepare('INSERT INTO models (name, manifest, self_check) VALUES (?, ?, ?)').run(name, JSON.stringify(manifest), check ? JSON.stringify(check) : null);
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }
}
