/**
 * Schema migrations: entry i brings the schema from version i to i + 1 (PRAGMA user_version).
 * Never edit a released entry; append a new one.
 */
export const MIGRATIONS: string[] = [
  // 1: the model registry. Each lab (database) has its own user models; their files are copied
  // into the folder beside the database so the lab stays whole when the originals move.
  `CREATE TABLE models (
     name TEXT PRIMARY KEY,
     manifest TEXT NOT NULL,
     added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );`,
  // 2: runs. Every individual that ever held a cell is kept with its parent (lineages back to the
  // random genomes of generation 0), the archive as of the last committed generation, the history
  // of champions and the per-generation statistics. One generation = one transaction.
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('evolution', 'ascent')),
     model TEXT NOT NULL,
     encoding TEXT NOT NULL,
     seed INTEGER NOT NULL,
     settings TEXT NOT NULL,
     labels TEXT NOT NULL,
     classes INTEGER NOT NULL,
     status TEXT NOT NULL DEFAULT 'running',
     last_generation INTEGER NOT NULL DEFAULT -1,
     evaluations INTEGER NOT NULL DEFAULT 0,
     seconds REAL NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
     updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );
   CREATE TABLE individuals (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     id INTEGER NOT NULL,
     parent_id INTEGER,
     second_parent_id INTEGER,
     generation INTEGER NOT NULL,
     genome BLOB NOT NULL,
     won TEXT NOT NULL,
     top TEXT NOT NULL,
     extra TEXT,
     PRIMARY KEY (run_id, id)
   ) WITHOUT ROWID;
   CREATE INDEX individuals_parent ON individuals (run_id, parent_id);
   CREATE TABLE champions (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     class INTEGER NOT NULL,
     individual_id INTEGER NOT NULL,
     confidence REAL NOT NULL,
     generation INTEGER NOT NULL,
     PRIMARY KEY (run_id, class)
   ) WITHOUT ROWID;
   CREATE TABLE champion_history (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     generation INTEGER NOT NULL,
     class INTEGER NOT NULL,
     individual_id INTEGER NOT NULL,
     confidence REAL NOT NULL,
     PRIMARY KEY (run_id, class, generation)
   ) WITHOUT ROWID;
   CREATE TABLE generation_stats (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     generation INTEGER NOT NULL,
     median REAL NOT NULL,
     mean REAL NOT NULL,
     max REAL NOT NULL,
     min REAL NOT NULL,
     occupied INTEGER NOT NULL,
     at99 INTEGER NOT NULL,
     at9999 INTEGER NOT NULL,
     evaluations_per_second REAL NOT NULL,
     seconds REAL NOT NULL,
     PRIMARY KEY (run_id, generation)
   ) WITHOUT ROWID;`,
  // 3: ablations saved from the app's ablation tool: which pixels of which champion were replaced
  // by which fill, the ablated image itself (PNG) and the confidences before and after.
  `CREATE TABLE ablations (
     id INTEGER PRIMARY KEY,
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     individual_id INTEGER NOT NULL,
     class INTEGER NOT NULL,
     fill TEXT NOT NULL,
     mask BLOB NOT NULL,
     masked_pixels INTEGER NOT NULL,
     confidence_before REAL NOT NULL,
     confidence_after REAL NOT NULL,
     top TEXT NOT NULL,
     image BLOB NOT NULL,
     note TEXT,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );
   CREATE INDEX ablations_individual ON ablations (run_id, individual_id);`,
  // 4: the paper's experiments (transfer, retraining, repetition ablation): params and result as
  // JSON, so reports can be rendered again from the database. result is NULL until it finishes.
  `CREATE TABLE experiments (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     params TEXT NOT NULL,
     result TEXT,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );`,
  // 5: direct genomes stored as a delta against their parent's (a child differs from its parent in
  // about 10% of its genes, and an ImageNet genome is 786 KB): genome_base is the individual the
  // genome blob is a delta against (NULL: the blob is the whole genome), genome_depth how many
  // deltas lie between it and a whole genome (bounded, so reading one stays cheap).
  `ALTER TABLE individuals ADD COLUMN genome_base INTEGER;
   ALTER TABLE individuals ADD COLUMN genome_depth INTEGER NOT NULL DEFAULT 0;`,
  // 6: labs that exchange runs (fool runs import, sweeps). lab_meta: this lab's identity (a random
  // id made once; the host that made it is added when it is first opened), so an imported run is
  // known by where it was born. imports: the provenance of each run or experiment copied in (the
  // lab and id it was born with, the file and host it came from); its primary key makes a second
  // import of the same run add nothing. Deleting a run forgets its import, so it can come back.
  `CREATE TABLE lab_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   INSERT INTO lab_meta (key, value) VALUES ('lab_id', lower(hex(randomblob(16))));
   CREATE TABLE imports (
     kind TEXT NOT NULL CHECK (kind IN ('run', 'experiment')),
     origin_lab TEXT NOT NULL,
     origin_id INTEGER NOT NULL,
     local_id INTEGER NOT NULL,
     source_path TEXT NOT NULL,
     source_host TEXT NOT NULL,
     imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
     PRIMARY KEY (kind, origin_lab, origin_id)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX imports_local ON imports (kind, local_id);
   CREATE TRIGGER runs_forget_import AFTER DELETE ON runs BEGIN
     DELETE FROM imports WHERE kind = 'run' AND local_id = OLD.id;
   END;`,
  // 7: ablations in the genome saved from the app's CPPN panel: the edits (nodes and connections
  // switched off, weights changed) as JSON, the re-rendered image (PNG) and the confidences.
  `CREATE TABLE genome_ablations (
     id INTEGER PRIMARY KEY,
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     individual_id INTEGER NOT NULL,
     class INTEGER NOT NULL,
     edits TEXT NOT NULL,
     confidence_before REAL NOT NULL,
     confidence_after REAL NOT NULL,
     top TEXT NOT NULL,
     image BLOB NOT NULL,
     note TEXT,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );
   CREATE INDEX genome_ablations_individual ON genome_ablations (run_id, individual_id);`,
  // 8: sweeps (fool sweep): the spec as asked, and one row a task (one evolution run in its own lab
  // file), with its state, its Slurm job ("JOBID_TASK") and, once imported, its run here.
  `CREATE TABLE sweeps (
     id INTEGER PRIMARY KEY,
     spec TEXT NOT NULL,
     backend TEXT NOT NULL,
     dir TEXT NOT NULL,
     script TEXT,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );
   CREATE TABLE sweep_tasks (
     sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
     task INTEGER NOT NULL,
     model TEXT NOT NULL,
     encoding TEXT NOT NULL,
     seed INTEGER NOT NULL,
     settings TEXT NOT NULL,
     lab TEXT NOT NULL,
     state TEXT NOT NULL DEFAULT 'planned',
     slurm_job TEXT,
     generation INTEGER,
     run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
     message TEXT,
     PRIMARY KEY (sweep_id, task)
   ) WITHOUT ROWID;`,
  // 9: the preprocessing self-check of each user model (JSON, see SelfCheck in shared/manifest),
  // NULL when it was skipped (--no-check) or for models added before it existed.
  `ALTER TABLE models ADD COLUMN self_check TEXT;`,
  // 10: who is running a run ("pid@host", NULL when nobody): a second process asked to resume a
  // live run refuses instead of colliding with it; a run whose owner died may be resumed at once.
  `ALTER TABLE runs ADD COLUMN owner TEXT;`,
  // 11: the last evaluation of each model on each test set (the Models page's "Evaluate", fool
  // models eval), kept so the accuracy is shown again later. Shipped models have no row in
  // models, hence no foreign key; removing a user model deletes its evaluations (store/models.ts).
  `CREATE TABLE model_evaluations (
     model TEXT NOT NULL,
     dataset TEXT NOT NULL,
     n INTEGER NOT NULL,
     accuracy REAL NOT NULL,
     seconds REAL NOT NULL,
     evaluated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
     PRIMARY KEY (model, dataset)
   ) WITHOUT ROWID;`,
];
