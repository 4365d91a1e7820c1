import type { Db } from './db';

/**
 * Copying runs between labs (`fool runs import`, `fool runs export-lab`, sweeps): reading another
 * lab's rows (opened read-only, of any schema up to ours) and writing them into this one with new
 * run ids, in one transaction.
 *
 * Individuals are keyed by (run_id, id): their ids, parent ids and genome bases (genome-delta.ts)
 * are numbers within their run, so copying a run's rows under its new run id keeps lineages and
 * delta chains valid without remapping anything but run_id.
 */

/** Where a run or experiment was born: the lab (its lab_meta id) and the id it had there. */
export interface Origin {
  lab: string;
  id: number;
}

export interface ImportRecord extends Origin {
  kind: 'run' | 'experiment';
  localId: number;
  sourcePath: string;
  sourceHost: string;
  importedAt: string;
}

export interface SourceRun {
  id: number;
  model: string;
  status: string;
  lastGeneration: number;
}

export interface SourceExperiment {
  id: number;
  kind: string;
  params: unknown;
  result: unknown;
  createdAt: string;
}

/** What one import writes (TransferStore.importRuns). */
export interface ImportPlan {
  sourcePath: string;
  sourceHost: string;
  /** Manifests of the models to record (their files already copied beside the lab). */
  models: { name: string }[];
  /** Source runs to copy: this lab's name for their model, and where they were born. */
  runs: { id: number; model: string; origin: Origin }[];
  /** Given source -> new run ids, the experiments to copy (params and result already remapped). */
  experiments: (runIds: Map<number, number>) => { experiment: SourceExperiment; params: unknown; result: unknown; origin: Origin; done: (id: number) => void }[];
  onRun?: (sourceRunId: number, index: number) => void;
  onRows?: (sourceRunId: number, index: number, rows: number) => void;
}

/** The tables that hang off a run by run_id and are copied with it (ablations get new ids). */
const RUN_TABLES = ['individuals', 'champions', 'champion_history', 'generation_stats'] as const;

function columns(db: Db, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

function hasTable(db: Db, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** Read-only access to another lab's rows. */
export class SourceLabStore {
  constructor(private readonly db: Db) {}

  version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** The source lab's id and host, when its schema records them (6 on); older labs have none. */
  meta(): { labId: string | null; host: string | null } {
    if (!hasTable(this.db, 'lab_meta')) return { labId: null, host: null };
    const get = (k: string) => (this.db.prepare('SELECT value FROM lab_meta WHERE key = ?').get(k) as { value: string } | undefined)?.value ?? null;
    return { labId: get('lab_id'), host: get('host') };
  }

  hasRuns(): boolean {
    return hasTable(this.db, 'runs');
  }

  runs(): SourceRun[] {
    return this.db.prepare('SELECT id, model, status, last_generation AS lastGeneration FROM runs ORDER BY id').all() as SourceRun[];
  }

  /** Where the source's run (or experiment) was born, if the source itself imported it. */
  origin(kind: 'run' | 'experiment', localId: number): Origin | null {
    if (!hasTable(this.db, 'imports')) return null;
    const r = this.db.prepare('SELECT origin_lab AS lab, origin_id AS id FROM imports WHERE kind = ? AND local_id = ?').get(kind, localId) as Origin | undefined;
    return r ?? null;
  }

  experiments(): SourceExperiment[] {
    if (!hasTable(this.db, 'experiments')) return [];
    const rows = this.db.prepare('SELECT id, kind, params, result, created_at FROM experiments ORDER BY id').all() as { id: number; kind: string; params: string; result: string | null; created_at: string }[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, params: JSON.parse(r.params) as unknown, result: r.result === null ? null : (JSON.parse(r.result) as unknown), createdAt: r.created_at }));
  }

  /** Rows of `table` for a run, with the given columns (those both labs have). */
  rowsOf(table: string, cols: string[], runId: number): IterableIterator<unknown[]> {
    return this.db.prepare(`SELECT ${cols.join(', ')} FROM ${table} WHERE run_id = ?`).raw().iterate(runId) as IterableIterator<unknown[]>;
  }

  runRow(cols: string[], runId: number): unknown[] {
    return this.db.prepare(`SELECT ${cols.join(', ')} FROM runs WHERE id = ?`).raw().get(runId) as unknown[];
  }

  columns(table: string): string[] {
    return hasTable(this.db, table) ? columns(this.db, table) : [];
  }
}

/** This lab's side of a transfer: its identity, its imports, and the writes (in one transaction). */
export class TransferStore {
  constructor(private readonly db: Db) {}

  labId(): string {
    return (this.db.prepare("SELECT value FROM lab_meta WHERE key = 'lab_id'").get() as { value: string }).value;
  }

  host(): string | null {
    return (this.db.prepare("SELECT value FROM lab_meta WHERE key = 'host'").get() as { value: string } | undefined)?.value ?? null;
  }

  /** Records the host that made this lab, once (its first opening since schema 6). */
  rememberHost(host: string): void {
    this.db.prepare("INSERT OR IGNORE INTO lab_meta (key, value) VALUES ('host', ?)").run(host);
  }

  /** The local id of what was born as `origin`: imported earlier, or born here. */
  localIdOf(kind: 'run' | 'experiment', origin: Origin): number | null {
    if (origin.lab === this.labId()) {
      const table = kind === 'run' ? 'runs' : 'experiments';
      return this.db.prepare(`SELECT id FROM ${table} WHERE id = ?`).get(origin.id) !== undefined ? origin.id : null;
    }
    const r = this.db.prepare('SELECT local_id AS id FROM imports WHERE kind = ? AND origin_lab = ? AND origin_id = ?').get(kind, origin.lab, origin.id) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** The provenance of an imported run or experiment; null for what was born here. */
  importOf(kind: 'run' | 'experiment', localId: number): ImportRecord | null {
    const r = this.db
      .prepare('SELECT kind, origin_lab AS lab, origin_id AS id, local_id AS localId, source_path AS sourcePath, source_host AS sourceHost, imported_at AS importedAt FROM imports WHERE kind = ? AND local_id = ?')
      .get(kind, localId) as ImportRecord | undefined;
    return r ?? null;
  }

  columns(table: string): string[] {
    return columns(this.db, table);
  }

  /**
   * One import, all of it or none of it (one transaction): the models' rows, then each run (copyRun,
   * its ablations, its provenance), then the experiments `experiments` picks given the new run ids.
   */
  importRuns(src: SourceLabStore, plan: ImportPlan): Map<number, number> {
    return this.db.transaction(() => {
      for (const m of plan.models) this.db.prepare('INSERT INTO models (name, manifest) VALUES (?, ?)').run(m.name, JSON.stringify(m));
      const runIds = new Map<number, number>();
      plan.runs.forEach((r, k) => {
        plan.onRun?.(r.id, k);
        const runId = this.copyRun(src, r.id, r.model, (n) => plan.onRows?.(r.id, k, n));
        this.copyAblations(src, r.id, runId);
        this.recordImport('run', r.origin, runId, plan.sourcePath, plan.sourceHost);
        runIds.set(r.id, runId);
      });
      for (const e of plan.experiments(runIds)) {
        const id = this.copyExperiment(e.experiment, e.params, e.result);
        this.recordImport('experiment', e.origin, id, plan.sourcePath, plan.sourceHost);
        e.done(id);
      }
      return runIds;
    })();
  }

  /**
   * Copies one run: its row (model renamed to this lab's name for it; a run the source marked
   * 'running' arrives 'stopped', since nothing runs it here) and every row hanging off it.
   * Returns the new run id.
   */
  private copyRun(src: SourceLabStore, srcRunId: number, model: string, onRows?: (n: number) => void): number {
    const runCols = src.columns('runs').filter((c) => c !== 'id' && this.columns('runs').includes(c));
    const values = src.runRow(runCols, srcRunId);
    const at = (c: string) => runCols.indexOf(c);
    values[at('model')] = model;
    if (values[at('status')] === 'running') values[at('status')] = 'stopped';
    const info = this.db.prepare(`INSERT INTO runs (${runCols.join(', ')}) VALUES (${runCols.map(() => '?').join(', ')})`).run(...values);
    const runId = Number(info.lastInsertRowid);
    let n = 0;
    for (const table of RUN_TABLES) n = this.copyRows(src, table, srcRunId, runId, n, onRows);
    return runId;
  }

  /** Ablations saved on the run, in the image and in the genome (new ids; their individual ids are the run's own). */
  private copyAblations(src: SourceLabStore, srcRunId: number, runId: number): number {
    let n = 0;
    for (const table of ['ablations', 'genome_ablations']) {
      if (src.columns(table).length > 0) n = this.copyRows(src, table, srcRunId, runId, n, undefined, ['id']);
    }
    return n;
  }

  private copyRows(src: SourceLabStore, table: string, srcRunId: number, runId: number, n: number, onRows?: (n: number) => void, skip: string[] = []): number {
    const mine = this.columns(table);
    const cols = src.columns(table).filter((c) => c !== 'run_id' && !skip.includes(c) && mine.includes(c));
    if (cols.length === 0) return n;
    const ins = this.db.prepare(`INSERT INTO ${table} (run_id, ${cols.join(', ')}) VALUES (?, ${cols.map(() => '?').join(', ')})`);
    for (const row of src.rowsOf(table, cols, srcRunId)) {
      ins.run(runId, ...row);
      if (++n % 1000 === 0) onRows?.(n);
    }
    return n;
  }

  private copyExperiment(e: SourceExperiment, params: unknown, result: unknown): number {
    const r = this.db.prepare('INSERT INTO experiments (kind, params, result, created_at) VALUES (?, ?, ?, ?)').run(e.kind, JSON.stringify(params), result === null ? null : JSON.stringify(result), e.createdAt);
    return Number(r.lastInsertRowid);
  }

  private recordImport(kind: 'run' | 'experiment', origin: Origin, localId: number, sourcePath: string, sourceHost: string): void {
    this.db.prepare('INSERT INTO imports (kind, origin_lab, origin_id, local_id, source_path, source_host) VALUES (?, ?, ?, ?, ?, ?)').run(kind, origin.lab, origin.id, localId, sourcePath, sourceHost);
  }
}
