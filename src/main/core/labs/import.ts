import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ImportResult } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import type { Manifest } from '../../../shared/manifest';
import type { Lab } from '../lab';
import { ModelRegistry, fileHash } from '../models/registry';
import { openDb, SCHEMA_VERSION } from '../store/db';
import { ModelStore } from '../store/models';
import { SourceLabStore, TransferStore, type Origin } from '../store/transfer';

export interface ImportOptions {
  /** Source run ids to copy (default: all). */
  runs?: number[];
  /** Awaited once the source and the run ids have passed their checks, before anything is copied. */
  onChecked?: () => void | Promise<void>;
  /** Progress: `done` of `total` runs, and a line to show. */
  onProgress?: (done: number, total: number, message: string) => void;
}

/**
 * Copies runs from another lab file into this one (`fool runs import`): each run with its
 * individuals, genomes, champions, history, statistics and saved ablations, under a new id, with its
 * provenance (the lab and id it was born with, the file and host it came from); the models they use
 * (matched by the SHA-256 of the ONNX file, copied when this lab has none); and the experiments that
 * concern only runs being imported (or already here). A run already here (imported before, or born
 * here) is skipped, so a second import adds nothing. The source is opened read-only and never
 * written; every row goes in one transaction, so a killed import leaves this lab as it was (model
 * files copied beside it before the transaction are reused by the next import).
 */
export async function importLab(lab: Lab, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const sourcePath = resolve(file);
  if (!existsSync(sourcePath)) throw new FoolError('NOT_FOUND', `there is no lab file ${sourcePath}`, 'Pass the path of a lab database (a .db file made by Fooling Lab)');
  if (sourcePath === resolve(lab.dbPath)) throw new FoolError('BAD_INPUT', `${sourcePath} is this lab itself`, 'Import from another lab file');
  // openDb refuses a newer schema (and a file that is not SQLite) before anything is read.
  const srcDb = openDb(sourcePath, { readonly: true, notALab: 'Import from a lab file made by Fooling Lab (its .db; fool runs export-lab RUN --out FILE.db writes one)' });
  try {
    const src = new SourceLabStore(srcDb);
    if (!src.hasRuns()) throw new FoolError('BAD_DATABASE', `${sourcePath} holds no runs table (schema ${src.version()} of ${SCHEMA_VERSION})`, 'Pass a lab made by Fooling Lab');
    const meta = src.meta();
    // A lab from before schema 6 has no id: its path stands for it.
    const sourceLab = meta.labId ?? `file:${sourcePath}`;
    const sourceHost = meta.host ?? hostname();
    const all = src.runs();
    const wanted = opts.runs ?? all.map((r) => r.id);
    const missing = wanted.filter((id) => !all.some((r) => r.id === id));
    if (missing.length) {
      throw new FoolError('NOT_FOUND', `${sourcePath} has no run ${missing.join(', ')}`, `Its runs are: ${all.map((r) => r.id).join(', ') || 'none'}`);
    }
    const runs = all.filter((r) => wanted.includes(r.id));
    await opts.onChecked?.();
    const target = new TransferStore(lab.db);
    const origin = (kind: 'run' | 'experiment', id: number): Origin => src.origin(kind, id) ?? { lab: sourceLab, id };

    // Models first (files only; rows go in the transaction): this lab's name for each source model.
    const srcModels = new ModelRegistry(new ModelStore(srcDb), sourcePath);
    const modelNames = new Map<string, string>();
    const adopted: { manifest: Manifest; hash: string }[] = [];
    const result: ImportResult = { source: sourcePath, sourceHost, imported: [], skipped: [], experiments: [], models: [] };
    const toCopy = runs.filter((r) => {
      const here = target.localIdOf('run', origin('run', r.id));
      if (here !== null) result.skipped.push({ sourceRunId: r.id, runId: here });
      return here === null;
    });
    for (const model of new Set(toCopy.map((r) => r.model))) {
      const info = srcModels.get(model);
      const hash = fileHash(info.path);
      const same = lab.models.findByHash(hash) ?? adopted.find((a) => a.hash === hash)?.manifest.name;
      if (same) {
        modelNames.set(model, same);
        result.models.push({ name: model, as: same, hash, copied: false });
        continue;
      }
      const taken = new Set([...lab.models.list().map((m) => m.name), ...adopted.map((a) => a.manifest.name)]);
      let name = model;
      for (let k = 2; taken.has(name); k++) name = `${model}-${k}`;
      adopted.push({ manifest: lab.models.adoptFiles(info, name), hash });
      modelNames.set(model, name);
      result.models.push({ name: model, as: name, hash, copied: true });
    }

    const total = toCopy.length;
    const copiedNow = new Set(toCopy.map((r) => r.id));
    const runIds = target.importRuns(src, {
      sourcePath,
      sourceHost,
      models: adopted.map((a) => a.manifest),
      runs: toCopy.map((r) => ({ id: r.id, model: modelNames.get(r.model) ?? r.model, origin: origin('run', r.id) })),
      onRun: (id, k) => opts.onProgress?.(k, total, `copying run ${id} (${k + 1} of ${total})`),
      onRows: (id, k, n) => opts.onProgress?.(k, total, `copying run ${id} (${k + 1} of ${total}): ${n} rows`),
      // Experiments that concern only runs now here, at least one of them imported now.
      experiments: (copied) => {
        const here = (id: number) => copied.get(id) ?? target.localIdOf('run', origin('run', id));
        return src.experiments().flatMap((e) => {
          const refs = runRefs(e.params).concat(runRefs(e.result));
          if (refs.length === 0 || !refs.some((id) => copiedNow.has(id))) return [];
          // Every run it names must be here, or its copy would point at the wrong run.
          if (!refs.every((id) => here(id) !== null)) return [];
          const o = origin('experiment', e.id);
          if (target.localIdOf('experiment', o) !== null) return [];
          const map = (id: number) => here(id) ?? id;
          return [{ experiment: e, params: remapRuns(e.params, map), result: remapRuns(e.result, map), origin: o, done: (id: number) => void result.experiments.push({ sourceExperimentId: e.id, experimentId: id, kind: e.kind }) }];
        });
      },
    });
    for (const [sourceRunId, runId] of runIds) result.imported.push({ sourceRunId, runId });
    opts.onProgress?.(total, total, `imported ${total} run${total === 1 ? '' : 's'}`);
    return result;
  } finally {
    srcDb.close();
  }
}

/** Keys by which experiments name runs: `runId` (one) and `runs` / `runIds` (several), at any depth. */
const ONE = new Set(['runId']);
const MANY = new Set(['runs', 'runIds']);

function runRefs(v: unknown): number[] {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    for (const [k, val] of Object.entries(x)) {
      if (ONE.has(k) && typeof val === 'number') out.push(val);
      else if (MANY.has(k) && Array.isArray(val) && val.every((n) => typeof n === 'number')) out.push(...(val as number[]));
      else walk(val);
    }
  };
  walk(v);
  return out;
}

function remapRuns(v: unknown, map: (id: number) => number): unknown {
  if (Array.isArray(v)) return v.map((x) => remapRuns(x, map));
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, val]) => {
      if (ONE.has(k) && typeof val === 'number') return [k, map(val)];
      if (MANY.has(k) && Array.isArray(val) && val.every((n) => typeof n === 'number')) return [k, (val as number[]).map(map)];
      return [k, remapRuns(val, map)];
    }),
  );
}

/** The runs of a lab file (opened read-only; null when it does not exist or cannot be read yet): a sweep task's progress. */
export function labRuns(file: string): { id: number; status: string; lastGeneration: number }[] | null {
  if (!existsSync(file)) return null;
  try {
    const db = openDb(file, { readonly: true });
    try {
      return new SourceLabStore(db).runs();
    } finally {
      db.close();
    }
  } catch {
    // Being created by its task right now: no runs table yet.
    return null;
  }
}
