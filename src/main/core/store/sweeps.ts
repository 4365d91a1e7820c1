import type { SweepDetail, SweepListing, SweepSpec, SweepTask, SweepTaskState } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import type { Db } from './db';

/** Sweeps (migration 7): the spec, and one row a task with its state and, once imported, its run. */

export interface NewTask {
  task: number;
  model: string;
  encoding: string;
  seed: number;
  settings: Record<string, string | number | boolean>;
  lab: string;
}

interface RawTask {
  task: number;
  model: string;
  encoding: string;
  seed: number;
  settings: string;
  lab: string;
  state: SweepTaskState;
  slurm_job: string | null;
  generation: number | null;
  run_id: number | null;
  message: string | null;
}

const toTask = (r: RawTask): SweepTask => ({
  task: r.task,
  model: r.model,
  encoding: r.encoding,
  seed: r.seed,
  settings: JSON.parse(r.settings) as SweepTask['settings'],
  state: r.state,
  lab: r.lab,
  slurmJob: r.slurm_job,
  generation: r.generation,
  runId: r.run_id,
  message: r.message,
});

export class SweepStore {
  constructor(private readonly db: Db) {}

  create(spec: SweepSpec, tasks: NewTask[]): number {
    return this.db.transaction(() => {
      const id = Number(this.db.prepare('INSERT INTO sweeps (spec, backend, dir) VALUES (?, ?, ?)').run(JSON.stringify(spec), spec.backend, spec.dir).lastInsertRowid);
      const ins = this.db.prepare('INSERT INTO sweep_tasks (sweep_id, task, model, encoding, seed, settings, lab) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const t of tasks) ins.run(id, t.task, t.model, t.encoding, t.seed, JSON.stringify(t.settings), t.lab);
      return id;
    })();
  }

  spec(id: number): SweepSpec {
    const r = this.db.prepare('SELECT spec FROM sweeps WHERE id = ?').get(id) as { spec: string } | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no sweep ${id} in this lab`, 'List them with "fool sweep --list"');
    return JSON.parse(r.spec) as SweepSpec;
  }

  tasks(id: number): SweepTask[] {
    return (this.db.prepare('SELECT * FROM sweep_tasks WHERE sweep_id = ? ORDER BY task').all(id) as RawTask[]).map(toTask);
  }

  setScript(id: number, script: string): void {
    this.db.prepare('UPDATE sweeps SET script = ? WHERE id = ?').run(script, id);
  }

  /** Updates a task's state (and what else is given). */
  update(id: number, task: number, u: { state?: SweepTaskState; slurmJob?: string | null; generation?: number | null; runId?: number | null; message?: string | null }): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    const put = (col: string, v: unknown) => (sets.push(`${col} = ?`), vals.push(v));
    if (u.state !== undefined) put('state', u.state);
    if (u.slurmJob !== undefined) put('slurm_job', u.slurmJob);
    if (u.generation !== undefined) put('generation', u.generation);
    if (u.runId !== undefined) put('run_id', u.runId);
    if (u.message !== undefined) put('message', u.message);
    if (sets.length) this.db.prepare(`UPDATE sweep_tasks SET ${sets.join(', ')} WHERE sweep_id = ? AND task = ?`).run(...vals, id, task);
  }

  list(): SweepListing[] {
    const rows = this.db
      .prepare(
        `SELECT s.id AS sweepId, s.backend, s.dir, s.created_at AS createdAt, COUNT(t.task) AS tasks,
                SUM(t.state = 'imported') AS imported, SUM(t.state = 'failed') AS failed
         FROM sweeps s LEFT JOIN sweep_tasks t ON t.sweep_id = s.id GROUP BY s.id ORDER BY s.id`,
      )
      .all() as SweepListing[];
    return rows.map((r) => ({ ...r, imported: r.imported ?? 0, failed: r.failed ?? 0 }));
  }

  get(id: number): SweepDetail {
    const spec = this.spec(id);
    const listing = this.list().find((s) => s.sweepId === id)!;
    const script = (this.db.prepare('SELECT script FROM sweeps WHERE id = ?').get(id) as { script: string | null }).script;
    return { ...listing, spec, generations: spec.generations, taskList: this.tasks(id), archive: this.archive(id), script };
  }

  /** Per class, the best champion over the sweep's imported runs (the earliest run on a tie). */
  archive(id: number): SweepDetail['archive'] {
    const rows = this.db
      .prepare(
        `SELECT c.class, c.confidence, c.run_id AS runId, c.individual_id AS individualId, r.labels
         FROM champions c JOIN sweep_tasks t ON t.run_id = c.run_id JOIN runs r ON r.id = c.run_id
         WHERE t.sweep_id = ? ORDER BY c.class, c.confidence DESC, c.run_id`,
      )
      .all(id) as { class: number; confidence: number; runId: number; individualId: number; labels: string }[];
    const best = new Map<number, SweepDetail['archive'][number]>();
    for (const r of rows) {
      if (best.has(r.class)) continue;
      const labels = JSON.parse(r.labels) as string[];
      best.set(r.class, { class: r.class, label: labels[r.class] ?? String(r.class), confidence: r.confidence, runId: r.runId, individualId: r.individualId });
    }
    return [...best.values()];
  }
}
