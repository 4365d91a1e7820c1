import type { RunListing } from '../../../shared/api';
import type { Champion, Encoding, GenerationStats } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import type { Db } from './db';
import type { Statement } from 'better-sqlite3';
import { hostname } from 'node:os';
import { applyDelta, encodeDelta, MAX_DELTA_DEPTH } from './genome-delta';

/**
 * Repositories for runs: the run itself, every individual that ever held a cell (with its parent),
 * the archive of the last committed generation, champion history and per-generation statistics.
 */

export type RunKind = 'evolution' | 'ascent';
/** An evolution run's genome encoding; 'gradient' for ascent runs (they store images). */
export type RunEncoding = Encoding | 'gradient';
export type RunStatus = 'running' | 'stopped' | 'finished' | 'failed';

export interface RunRow {
  id: number;
  kind: RunKind;
  model: string;
  encoding: RunEncoding;
  seed: number;
  settings: Record<string, unknown>;
  labels: string[];
  classes: number;
  status: RunStatus;
  lastGeneration: number;
  evaluations: number;
  seconds: number;
  createdAt: string;
  updatedAt: string;
}

/** [class, probability] pairs. */
export type ClassProb = [number, number];

export interface StoredIndividual {
  id: number;
  parentId: number | null;
  secondParentId?: number | null;
  generation: number;
  genome: Uint8Array;
  /** The cells it won when it was born, with its probability for each. */
  won: ClassProb[];
  /** Its top classes (a few), for lineage views without re-classifying. */
  top: ClassProb[];
  extra?: unknown;
  /**
   * Writing only: the parent's whole genome, for an encoding whose genomes the store may keep as a
   * delta against it (GenomeEncoding.storesDeltas; genome-delta.ts). Reading always gives the whole genome.
   */
  deltaBase?: { id: number; genome: Uint8Array };
}

export interface ChampionChange {
  class: number;
  individualId: number;
  confidence: number;
}

export interface GenerationRecord {
  individuals: StoredIndividual[];
  champions: ChampionChange[];
  /** The generation's statistics (its number and timing included). */
  stats: GenerationStats;
  /** Images evaluated in this generation (added to the run's total). */
  evaluations: number;
}

interface RawRun {
  id: number;
  kind: RunKind;
  model: string;
  encoding: RunEncoding;
  seed: number;
  settings: string;
  labels: string;
  classes: number;
  status: RunStatus;
  last_generation: number;
  evaluations: number;
  seconds: number;
  created_at: string;
  updated_at: string;
  owner: string | null;
}

interface RawIndividual {
  id: number;
  parent_id: number | null;
  second_parent_id: number | null;
  generation: number;
  genome: Buffer;
  won: string;
  top: string;
  extra: string | null;
  genome_base: number | null;
  genome_depth: number;
}

const toRun = (r: RawRun): RunRow => ({
  id: r.id,
  kind: r.kind,
  model: r.model,
  encoding: r.encoding,
  seed: r.seed,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  labels: JSON.parse(r.labels) as string[],
  classes: r.classes,
  // A run left 'running' by a process that died (killed, a crash) is stopped: resumable, not live.
  status: r.status === 'running' && !(r.owner && ownerAlive(r.owner, r.updated_at)) ? 'stopped' : r.status,
  lastGeneration: r.last_generation,
  evaluations: r.evaluations,
  seconds: r.seconds,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const blob = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const toIndividual = (r: RawIndividual, genome: Uint8Array): StoredIndividual => ({
  id: r.id,
  parentId: r.parent_id,
  secondParentId: r.second_parent_id,
  generation: r.generation,
  genome,
  won: JSON.parse(r.won) as ClassProb[],
  top: JSON.parse(r.top) as ClassProb[],
  extra: r.extra === null ? undefined : (JSON.parse(r.extra) as unknown),
});

/**
 * Whole genomes resolved during one read (a lineage, the champions of a run): shared ancestors are
 * decoded once. Bounded, because ImageNet direct genomes are 786 KB each.
 */
class GenomeCache {
  private readonly map = new Map<number, Uint8Array>();
  private bytes = 0;
  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}
  get(id: number): Uint8Array | undefined {
    return this.map.get(id);
  }
  set(id: number, g: Uint8Array): void {
    this.map.set(id, g);
    this.bytes += g.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes || this.map.size === 1) break;
      this.map.delete(k);
      this.bytes -= v.byteLength;
    }
  }
}

export class RunStore {
  /** Prepared once: resolving delta chains reads many rows. */
  private getGenome?: Statement;

  constructor(private readonly db: Db) {}

  create(run: { kind: RunKind; model: string; encoding: RunEncoding; seed: number; settings: object; labels: string[] }): number {
    const r = this.db
      .prepare('INSERT INTO runs (kind, model, encoding, seed, settings, labels, classes, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(run.kind, run.model, run.encoding, run.seed, JSON.stringify(run.settings), JSON.stringify(run.labels), run.labels.length, OWNER);
    return Number(r.lastInsertRowid);
  }

  get(id: number): RunRow {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `there is no run ${id} in this lab`, 'List the runs with "fool runs list"');
    return toRun(r);
  }

  list(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRun[]).map(toRun);
  }

  listing(r: RunRow): RunListing {
    const last = this.db.prepare('SELECT median, at9999 FROM generation_stats WHERE run_id = ? ORDER BY generation DESC LIMIT 1').get(r.id) as
      | { median: number; at9999: number }
      | undefined;
    return {
      runId: r.id,
      kind: r.kind,
      model: r.model,
      encoding: r.encoding,
      seed: r.seed,
      status: r.status,
      generation: r.lastGeneration,
      generations: typeof r.settings.generations === 'number' ? r.settings.generations : null,
      classes: r.classes,
      aimed: r.kind === 'ascent' && Array.isArray(r.settings.classes) ? r.settings.classes.length : r.classes,
      median: last?.median ?? null,
      at9999: last?.at9999 ?? null,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      seconds: r.seconds,
      evaluations: r.evaluations,
      provider: typeof r.settings.provider === 'string' ? r.settings.provider : null,
    };
  }

  setStatus(id: number, status: RunStatus): void {
    this.db.prepare("UPDATE runs SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").run(status, id);
  }

  /**
   * Takes the run for this process: refused while another live process holds it (a second writer
   * would collide with its individuals and mark it failed). A run whose holder died (killed, a
   * crash) is taken over: its committed generations are intact.
   */
  claim(id: number): void {
    this.db.transaction(() => {
      const r = this.db.prepare('SELECT status, owner, updated_at AS updatedAt FROM runs WHERE id = ?').get(id) as { status: RunStatus; owner: string | null; updatedAt: string } | undefined;
      if (!r) throw new FoolError('NOT_FOUND', `there is no run ${id} in this lab`, 'List the runs with "fool runs list"');
      if (r.status === 'running' && r.owner && r.owner !== OWNER && ownerAlive(r.owner, r.updatedAt)) {
        throw new FoolError(
          'BUSY',
          `run ${id} is live in another process (${r.owner}); it was left running`,
          `Wait for it to finish, or stop it there (Ctrl-C, or kill ${r.owner.split('@')[0]}) and then resume it`,
        );
      }
      this.db.prepare("UPDATE runs SET status = 'running', owner = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").run(OWNER, id);
    }).immediate();
  }

  /** Refuses, without taking it, a run that another live process holds. */
  assertNotLive(id: number): void {
    const r = this.db.prepare('SELECT status, owner, updated_at AS updatedAt FROM runs WHERE id = ?').get(id) as { status: RunStatus; owner: string | null; updatedAt: string } | undefined;
    if (r && r.status === 'running' && r.owner && r.owner !== OWNER && ownerAlive(r.owner, r.updatedAt)) {
      throw new FoolError('BUSY', `run ${id} is live in another process (${r.owner}); it was left running`, `Wait for it to finish, or stop it there (Ctrl-C, or kill ${r.owner.split('@')[0]}) and then resume it`);
    }
  }

  /** Gives the run back with its final status. */
  release(id: number, status: RunStatus): void {
    this.db.prepare("UPDATE runs SET status = ?, owner = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").run(status, id);
  }

  /**
   * Records where the run's images are classified ('cpu' or 'cuda'), beside its settings: the
   * same settings on another provider give another speed, and the run page says which.
   */
  setProvider(id: number, provider: string): void {
    this.db.prepare("UPDATE runs SET settings = json_set(settings, '$.provider', ?) WHERE id = ?").run(provider, id);
  }

  /** Extends the run's length (resume with more generations). */
  updateSettings(id: number, settings: object): void {
    this.db.prepare('UPDATE runs SET settings = ? WHERE id = ?').run(JSON.stringify(settings), id);
  }

  /** Everything a generation produced, in one transaction: it is all there or none of it is. */
  commitGeneration(runId: number, g: GenerationRecord): void {
    const insInd = this.db.prepare(
      'INSERT INTO individuals (run_id, id, parent_id, second_parent_id, generation, genome, won, top, extra, genome_base, genome_depth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const depthOf = this.db.prepare('SELECT genome_depth AS d FROM individuals WHERE run_id = ? AND id = ?');
    const upChamp = this.db.prepare(
      'INSERT INTO champions (run_id, class, individual_id, confidence, generation) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, class) DO UPDATE SET individual_id = excluded.individual_id, confidence = excluded.confidence, generation = excluded.generation',
    );
    const insHist = this.db.prepare('INSERT INTO champion_history (run_id, generation, class, individual_id, confidence) VALUES (?, ?, ?, ?, ?)');
    const insStats = this.db.prepare(
      'INSERT INTO generation_stats (run_id, generation, median, mean, max, min, occupied, at99, at9999, evaluations_per_second, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const upRun = this.db.prepare(
      "UPDATE runs SET last_generation = ?, evaluations = evaluations + ?, seconds = seconds + ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
    );
    // IMMEDIATE: the transaction reads (the parents' delta depths) before it writes; a deferred one
    // would start as a reader and, in WAL mode, fail to upgrade with SQLITE_BUSY_SNAPSHOT when
    // another process committed meanwhile (the busy timeout does not apply to that). Taking the
    // write lock first makes concurrent runs wait for each other instead.
    this.db.transaction(() => {
      for (const i of g.individuals) {
        let genome = i.genome;
        let base: number | null = null;
        let depth = 0;
        if (i.deltaBase) {
          const parent = depthOf.get(runId, i.deltaBase.id) as { d: number } | undefined;
          const delta = parent && parent.d + 1 <= MAX_DELTA_DEPTH ? encodeDelta(i.genome, i.deltaBase.genome) : null;
          if (delta && parent) [genome, base, depth] = [delta, i.deltaBase.id, parent.d + 1];
        }
        insInd.run(
          runId,
          i.id,
          i.parentId,
          i.secondParentId ?? null,
          i.generation,
          Buffer.from(genome.buffer, genome.byteOffset, genome.byteLength),
          JSON.stringify(i.won),
          JSON.stringify(i.top),
          i.extra === undefined ? null : JSON.stringify(i.extra),
          base,
          depth,
        );
      }
      for (const c of g.champions) {
        upChamp.run(runId, c.class, c.individualId, c.confidence, g.stats.generation);
        insHist.run(runId, g.stats.generation, c.class, c.individualId, c.confidence);
      }
      const s = g.stats;
      insStats.run(runId, s.generation, s.median, s.mean, s.max, s.min, s.occupied, s.at99, s.at9999, s.evaluationsPerSecond, s.seconds);
      upRun.run(s.generation, g.evaluations, s.seconds, runId);
    }).immediate();
  }

  stats(runId: number): GenerationStats[] {
    return this.db
      .prepare(
        'SELECT generation, median, mean, max, min, occupied, at99, at9999, evaluations_per_second AS evaluationsPerSecond, seconds FROM generation_stats WHERE run_id = ? ORDER BY generation',
      )
      .all(runId) as GenerationStats[];
  }

  champions(runId: number): Champion[] {
    const run = this.get(runId);
    const rows = this.db
      .prepare('SELECT class, individual_id AS individualId, confidence, generation FROM champions WHERE run_id = ? ORDER BY class')
      .all(runId) as Omit<Champion, 'label'>[];
    return rows.map((r) => ({ ...r, label: run.labels[r.class] ?? String(r.class) }));
  }

  /**
   * Each cell's first champion (the earliest entry of its history: for an evolution run, a random
   * genome of generation 0), by class.
   */
  firstChampions(runId: number): Champion[] {
    const run = this.get(runId);
    const rows = this.db
      .prepare(
        `SELECT h.class, h.individual_id AS individualId, h.confidence, h.generation FROM champion_history h
         JOIN (SELECT class, MIN(generation) AS g FROM champion_history WHERE run_id = ? GROUP BY class) f ON f.class = h.class AND f.g = h.generation
         WHERE h.run_id = ? ORDER BY h.class`,
      )
      .all(runId, runId) as Omit<Champion, 'label'>[];
    return rows.map((r) => ({ ...r, label: run.labels[r.class] ?? String(r.class) }));
  }

  /** Each cell's champion confidence as of `generation` (the best it had by then), by class; cells empty then are absent. */
  confidencesAsOf(runId: number, generation: number): Map<number, number> {
    const rows = this.db
      .prepare('SELECT class, MAX(confidence) AS c FROM champion_history WHERE run_id = ? AND generation <= ? GROUP BY class')
      .all(runId, generation) as { class: number; c: number }[];
    return new Map(rows.map((r) => [r.class, r.c]));
  }

  /** The generation at which each cell first held a champion of at least `confidence`, by class; cells that never did are absent. */
  firstGenerationsAtLeast(runId: number, confidence: number): Map<number, number> {
    const rows = this.db
      .prepare('SELECT class, MIN(generation) AS g FROM champion_history WHERE run_id = ? AND confidence >= ? GROUP BY class')
      .all(runId, confidence) as { class: number; g: number }[];
    return new Map(rows.map((r) => [r.class, r.g]));
  }

  /** Every individual's parent (id -> parent id), for walking a whole run's family tree at once. */
  parentLinks(runId: number): Map<number, number | null> {
    const rows = this.db.prepare('SELECT id, parent_id AS parentId FROM individuals WHERE run_id = ?').all(runId) as { id: number; parentId: number | null }[];
    return new Map(rows.map((l) => [l.id, l.parentId]));
  }

  individual(runId: number, id: number): StoredIndividual {
    const r = this.db.prepare('SELECT * FROM individuals WHERE run_id = ? AND id = ?').get(runId, id) as RawIndividual | undefined;
    if (!r) throw new FoolError('NOT_FOUND', `run ${runId} has no individual ${id}`, 'Check the individual id');
    return this.resolve(runId, r, new GenomeCache());
  }

  /** The champions' individuals, keyed by id (one individual may hold many cells). */
  championIndividuals(runId: number): Map<number, StoredIndividual> {
    const rows = this.db
      .prepare('SELECT i.* FROM individuals i JOIN (SELECT DISTINCT individual_id FROM champions WHERE run_id = ?) c ON i.id = c.individual_id WHERE i.run_id = ?')
      .all(runId, runId) as RawIndividual[];
    const cache = new GenomeCache();
    return new Map(rows.map((r) => [r.id, this.resolve(runId, r, cache)]));
  }

  /**
   * Every ancestor of every current champion (the champions included), with its parent and
   * generation: the run's whole phylogeny, merged back to generation 0. One recursive query,
   * no genomes read.
   */
  ancestry(runId: number): { id: number; parentId: number | null; generation: number }[] {
    this.get(runId);
    return this.db
      .prepare(
        `WITH RECURSIVE anc(id) AS (
           SELECT individual_id FROM champions WHERE run_id = ?
           UNION
           SELECT i.parent_id FROM individuals i JOIN anc ON i.run_id = ? AND i.id = anc.id WHERE i.parent_id IS NOT NULL
         )
         SELECT i.id, i.parent_id AS parentId, i.generation FROM individuals i JOIN anc ON i.run_id = ? AND i.id = anc.id`,
      )
      .all(runId, runId, runId) as { id: number; parentId: number | null; generation: number }[];
  }

  /** The chain of ancestors of class `cls`'s champion, generation 0 first. */
  lineage(runId: number, cls: number): StoredIndividual[] {
    const run = this.get(runId);
    if (!Number.isInteger(cls) || cls < 0 || cls >= run.classes) {
      throw new FoolError('BAD_INPUT', `class ${cls} is out of range for run ${runId}`, `Classes are 0..${run.classes - 1}`);
    }
    const champ = this.db.prepare('SELECT individual_id AS id FROM champions WHERE run_id = ? AND class = ?').get(runId, cls) as { id: number } | undefined;
    if (!champ) throw new FoolError('NOT_FOUND', `run ${runId} has no champion for class ${cls} yet`, 'Run more generations');
    const chain: StoredIndividual[] = [];
    let id: number | null = champ.id;
    const get = this.db.prepare('SELECT * FROM individuals WHERE run_id = ? AND id = ?');
    const cache = new GenomeCache();
    while (id !== null) {
      const r = get.get(runId, id) as RawIndividual | undefined;
      if (!r) throw new FoolError('INTERNAL', `run ${runId}: individual ${id} is missing from the lineage`);
      const ind = this.resolve(runId, r, cache);
      chain.push(ind);
      id = ind.parentId;
    }
    return chain.reverse();
  }

  /** The row with its whole genome: a delta-stored genome is rebuilt from its chain of bases. */
  private resolve(runId: number, r: RawIndividual, cache: GenomeCache): StoredIndividual {
    if (r.genome_base === null) return toIndividual(r, blob(r.genome));
    const get = (this.getGenome ??= this.db.prepare('SELECT id, genome, genome_base FROM individuals WHERE run_id = ? AND id = ?'));
    const chain: Pick<RawIndividual, 'id' | 'genome' | 'genome_base'>[] = [];
    let cur: Pick<RawIndividual, 'id' | 'genome' | 'genome_base'> = r;
    let whole: Uint8Array;
    for (;;) {
      const hit = cache.get(cur.id);
      if (hit) {
        whole = hit;
        break;
      }
      if (cur.genome_base === null) {
        whole = blob(cur.genome);
        break;
      }
      chain.push(cur);
      const next = get.get(runId, cur.genome_base) as typeof cur | undefined;
      if (!next) throw new FoolError('INTERNAL', `run ${runId}: individual ${cur.id}'s genome is stored against ${cur.genome_base}, which is missing`);
      cur = next;
    }
    for (let k = chain.length - 1; k >= 0; k--) {
      whole = applyDelta(whole, blob(chain[k].genome));
      cache.set(chain[k].id, whole);
    }
    return toIndividual(r, whole);
  }

  delete(runId: number): void {
    this.get(runId);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
  }
}
/** This process, as a run's owner. */
const OWNER = `${process.pid}@${hostname()}`;
/** A run held by a process on another machine (a shared folder) counts as live while it wrote this recently. */
const FOREIGN_HOST_GRACE_MS = 10 * 60_000;

/** Whether the process named by `owner` ("pid@host") is still alive. */
export function ownerAlive(owner: string, updatedAt: string): boolean {
  const [pid, host] = owner.split('@');
  if (host !== hostname()) return Date.now() - Date.parse(updatedAt) < FOREIGN_HOST_GRACE_MS;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
