import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FoolError, isFoolError } from '../../../shared/errors';
import {
  ManifestSchema,
  PRESET_NAMES,
  type Manifest,
  type ManifestOverrides,
  type ModelEvaluation,
  type ModelInfo,
  type ModelSummary,
  type PresetName,
  type SelfCheck,
} from '../../../shared/manifest';
import type { ModelStore } from '../store/models';
import type { ClassifierOptions } from './classifier';
import { addCommandLine, buildManifest, manifestBeside, outputClasses, readManifestFile } from './manifest-options';
import { selfCheck } from './self-check';
import { labModelsDir, shippedModelsDir } from '../paths';
import { decodeModel, encodeModel, summarize, type GraphSummary } from './onnx-graph';
import { prepareModel, readModelFile } from './prepare';
import { sessionOptions } from './provider';

export interface AddModelOptions {
  /** Name in this lab (else the manifest file's name). */
  name?: string;
  preset?: PresetName;
  /** A manifest file (--manifest); without it, FILE.json beside the model is read when present. */
  manifest?: string;
  labels?: string;
  labelOffset?: number;
  outputKind?: 'probabilities' | 'logits';
  output?: string;
  description?: string;
  /** Every other manifest field (--channels, --layout, --size, --scale, --mean, --std, --resize, --resize-to). */
  overrides?: ManifestOverrides;
  /** Run the preprocessing self-check (default true; --no-check). */
  check?: boolean;
  /** For the self-check's classifier. */
  classifier?: ClassifierOptions;
  /** Move the file into the lab instead of copying it (a finished download). */
  move?: boolean;
  /** Where the file came from (a URL for a download), kept in the stored manifest.json. */
  origin?: string;
  /** How the command that registers this model is spelled, for the self-check's advice. */
  commandFor?: (flags: string) => string;
  /**
   * When the self-check finds a preprocessing that scores clearly better, register with that one
   * (catalogue entries whose manifest could not be verified where the catalogue was made).
   */
  adoptBest?: boolean;
}

export interface AddModelResult {
  info: ModelInfo;
  summary: GraphSummary;
  /** What was decided without being asked (labels, offset) and what loading changed. */
  notes: string[];
  check?: SelfCheck;
}

export function readLabels(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new FoolError('NOT_FOUND', `labels file ${path} does not exist or cannot be read`, 'Pass a text file with one class name a line');
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new FoolError('BAD_INPUT', `labels file ${path} is empty`, 'Put one class name on each line');
  return lines.map((l) => l.trim());
}

/**
 * Checks a manifest against the real graph: input name, rank and size, output name, and the
 * number of outputs against the labels. Each failure says what to change.
 */
export function checkManifest(m: Manifest, g: GraphSummary): void {
  const input = g.inputs.find((i) => i.name === m.input.name);
  if (!input) {
    throw new FoolError('MISMATCH', `the manifest's input "${m.input.name}" is not an input of the graph`, `The graph's inputs are: ${g.inputs.map((i) => i.name).join(', ')}`);
  }
  if (input.dims.length !== 4) {
    throw new FoolError('MISMATCH', `the graph's input "${input.name}" has rank ${input.dims.length}, an image batch has rank 4`, 'Only image classifiers can be registered');
  }
  const [, a, b, c] = input.dims;
  const expect = m.input.layout === 'NCHW' ? [m.input.channels, m.input.height, m.input.width] : [m.input.height, m.input.width, m.input.channels];
  const got = [a, b, c];
  for (let i = 0; i < 3; i++) {
    if (typeof got[i] === 'number' && got[i] !== expect[i]) {
      throw new FoolError(
        'MISMATCH',
        `the manifest describes ${m.input.layout} input ${expect.join('x')} but the graph's input "${input.name}" is [${input.dims.join(', ')}]`,
        'Pick the preset of this model family (--preset), or fix the manifest\'s input size and layout',
      );
    }
  }
  const out = g.outputs.find((o) => o.name === m.output.name);
  if (!out) {
    throw new FoolError('MISMATCH', `the graph has no output "${m.output.name}"`, `Its outputs are: ${g.outputs.map((o) => o.name).join(', ')}`);
  }
  const k = outputClasses(out.dims);
  if (k !== undefined) checkClassCount(m, k);
}

function checkClassCount(m: Manifest, outputs: number): void {
  if (outputs === m.classes + m.labelOffset) return;
  const fix =
    outputs === m.classes + 1 && m.labelOffset === 0
      ? 'If output 0 is a "background" class, pass --label-offset 1'
      : outputs === m.classes && m.labelOffset > 0
        ? 'The labels already cover every output: use --label-offset 0'
        : `Give a labels file with ${outputs - m.labelOffset} lines (or change --label-offset)`;
  throw new FoolError(
    'MISMATCH',
    `output "${m.output.name}" has ${outputs} classes but the labels file has ${m.classes} lines with label offset ${m.labelOffset} (${m.classes + m.labelOffset} expected)`,
    fix,
  );
}

/** Loads the prepared graph in onnxruntime and runs one image, to catch what reading the graph cannot. */
export async function probeModel(bytes: Uint8Array, m: Manifest, source: string): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions('cpu', 1));
  } catch (e) {
    throw new FoolError('BAD_MODEL', `onnxruntime cannot load ${source}: ${(e as Error).message.split('\n')[0]}`, 'Check that the file is a complete, valid ONNX model');
  }
  try {
    const { height: h, width: w, channels: c, layout } = m.input;
    const dims = layout === 'NCHW' ? [2, c, h, w] : [2, h, w, c];
    const out = await session.run({ [m.input.name]: new ort.Tensor('float32', new Float32Array(2 * h * w * c), dims) }, [m.output.name]);
    const t = out[m.output.name];
    checkClassCount(m, t.data.length / 2);
  } catch (e) {
    if (e instanceof FoolError) throw e;
    throw new FoolError('BAD_MODEL', `${source} fails on a batch of 2 images: ${(e as Error).message.split('\n')[0]}`, 'Check the manifest input name and size');
  } finally {
    await session.release();
  }
}

/** A user model as stored: its manifest, self-check, and what of its files is missing. */
interface UserEntry {
  manifest: Manifest;
  base: string;
  check?: SelfCheck;
  missing?: string;
}

/**
 * The model registry: models shipped in resources/models plus the models a user added to this lab
 * (a row in the database, files in the folder beside it).
 */
export class ModelRegistry {
  private readonly store: ModelStore;
  readonly dir: string;

  constructor(store: ModelStore, dbPath: string) {
    this.store = store;
    this.dir = labModelsDir(dbPath);
  }

  private shipped(): { manifest: Manifest; base: string }[] {
    const dir = shippedModelsDir();
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
        return { manifest: ManifestSchema.parse(raw), base: dir };
      });
  }

  private user(): UserEntry[] {
    return this.store.list().map((r) => {
      const manifest = ManifestSchema.parse(r.manifest);
      const base = join(this.dir, r.name);
      const gone = [manifest.file, manifest.labels].filter((f) => !existsSync(resolve(base, f)));
      return {
        manifest,
        base,
        check: r.selfCheck ?? undefined,
        missing: gone.length ? `${gone.join(' and ')} in ${base}` : undefined,
      };
    });
  }

  list(): ModelSummary[] {
    const shipped = this.shipped().map(
      (e): ModelSummary => ({ name: e.manifest.name, file: resolve(e.base, e.manifest.file), classes: e.manifest.classes, source: 'shipped', description: e.manifest.description }),
    );
    const user = this.user().map(
      (e): ModelSummary => ({
        name: e.manifest.name,
        file: resolve(e.base, e.manifest.file),
        classes: e.manifest.classes,
        source: 'user',
        description: e.manifest.description,
        ...(e.check ? { check: e.check } : {}),
        ...(e.missing ? { missing: e.missing } : {}),
      }),
    );
    const evals = this.store.evaluations();
    return [...shipped, ...user].map((m) => (evals.has(m.name) ? { ...m, evaluations: evals.get(m.name) } : m));
  }

  /** Keeps what an evaluation measured (models.eval), so the Models page and `fool models list` show it later. */
  saveEvaluation(name: string, e: Omit<ModelEvaluation, 'evaluatedAt'>): ModelEvaluation {
    this.get(name); // NOT_FOUND for a model removed meanwhile
    return this.store.saveEvaluation(name, e);
  }

  /** A model's stored evaluations, latest first. */
  evaluations(name: string): ModelEvaluation[] {
    return this.store.evaluations().get(name) ?? [];
  }

  private missingError(name: string, missing: string): FoolError {
    return new FoolError(
      'NOT_FOUND',
      `model "${name}" is registered in this lab but its files are missing: ${missing}`,
      `Copy the lab's ${basename(this.dir)} folder back beside the database (a lab is the .db file and that folder), or "fool models remove ${name}" and add the model again`,
    );
  }

  /**
   * The model a run was made with. One removed since (the run stays: shown, exported) is refused
   * with what to do, not as an unknown name among the lab's others.
   */
  forRun(run: { id: number; model: string }): ModelInfo {
    try {
      return this.get(run.model);
    } catch (e) {
      if (!isFoolError(e) || e.code !== 'NOT_FOUND' || this.list().some((m) => m.name === run.model)) throw e;
      throw new FoolError(
        'NOT_FOUND',
        `run ${run.id} was made with the model "${run.model}", which is no longer in this lab (removed?)`,
        `Add it again under that name (fool models add FILE.onnx --name ${run.model} ...); the run can be shown and exported without it`,
      );
    }
  }

  get(name: string): ModelInfo {
    const s = this.shipped().find((x) => x.manifest.name === name);
    if (s) return { manifest: s.manifest, path: resolve(s.base, s.manifest.file), labels: readLabels(resolve(s.base, s.manifest.labels)), source: 'shipped' };
    const u = this.user().find((x) => x.manifest.name === name);
    if (u) {
      if (u.missing) throw this.missingError(name, u.missing);
      return { manifest: u.manifest, path: resolve(u.base, u.manifest.file), labels: readLabels(resolve(u.base, u.manifest.labels)), source: 'user', ...(u.check ? { check: u.check } : {}) };
    }
    const known = this.list().map((m) => m.name);
    throw new FoolError(
      'NOT_FOUND',
      `no model named "${name}" in this lab`,
      known.length ? `Known models: ${known.join(', ')} (fool models list)` : 'Add one with "fool models add FILE.onnx --name NAME --preset P"',
    );
  }

  /**
   * Validates everything first (file, graph, manifest, labels, a trial run in onnxruntime, the
   * self-check), then copies the files beside the database and records the model, so a failure
   * leaves the registry as it was.
   */
  async add(file: string, opts: AddModelOptions): Promise<AddModelResult> {
    const path = resolve(file);
    const bytes = readModelFile(path);
    const besidePath = opts.manifest ? undefined : manifestBeside(path);
    const manifestSource = opts.manifest ? readManifestFile(opts.manifest, true) : besidePath ? readManifestFile(besidePath, false) : undefined;
    const name = opts.name ?? manifestSource?.data.name;
    if (!name) throw new FoolError('BAD_INPUT', 'the model needs a name in this lab', 'Pass --name NAME');
    const nameCheck = ManifestSchema.shape.name.safeParse(name);
    if (!nameCheck.success) throw new FoolError('BAD_INPUT', `model name "${name}" is not allowed: ${nameCheck.error.issues[0].message}`, 'Choose another --name');
    // Names that differ only in case share a folder on case-insensitive file systems (macOS, Windows).
    const same = this.list().find((m) => m.name.toLowerCase() === name.toLowerCase());
    if (same) {
      const how = same.name === name ? `a model named "${name}" already exists in this lab` : `"${name}" differs only in case from the model "${same.name}" (their files would share a folder on macOS and Windows)`;
      throw new FoolError('BAD_INPUT', how, `Choose another --name, or "fool models remove ${same.name}" first`);
    }
    this.removeStaleStaging();
    const overrides: ManifestOverrides = {
      ...opts.overrides,
      ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
      ...(opts.labelOffset !== undefined ? { labelOffset: opts.labelOffset } : {}),
      ...(opts.outputKind !== undefined ? { outputKind: opts.outputKind } : {}),
      ...(opts.output !== undefined ? { output: opts.output } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    };
    if (overrides.preset !== undefined && !PRESET_NAMES.includes(overrides.preset)) {
      throw new FoolError('BAD_INPUT', `unknown preset "${overrides.preset}"`, `Use one of: ${PRESET_NAMES.join(', ')}`);
    }
    const model = decodeModel(bytes, path);
    const summary = summarize(model);
    let built = buildManifest(summary, { name, labels: opts.labels, overrides, manifest: manifestSource }, readLabels);
    checkManifest(built.manifest, summary);
    const { notes } = prepareModel(model);
    await probeModel(encodeModel(model), built.manifest, path);
    if (manifestSource && !manifestSource.explicit) built.notes.unshift(`manifest: ${manifestSource.path}`);

    let check =
      opts.check === false
        ? undefined
        : await selfCheck(
            { manifest: built.manifest, path, labels: built.labels, source: 'user' },
            {
              classifier: opts.classifier,
              // The model is registered even when the check is poor, so the fix replaces it: the
              // add command alone would be refused ("a model named ... already exists").
              commandFor:
                opts.commandFor ??
                ((flags) =>
                  `fool models remove ${name} && ` +
                  addCommandLine(
                    { file, name: opts.name, manifest: opts.manifest, layout: overrides.layout, height: overrides.height, width: overrides.width, labels: opts.labels, labelOffset: overrides.labelOffset, output: overrides.output, outputKind: overrides.outputKind },
                    flags,
                  )),
            },
          );
    const best = check?.alternatives?.[0];
    if (opts.adoptBest && check && !check.passed && best && best.flags !== check.flags && best.accuracy >= check.threshold) {
      // Only the preprocessing changes: the variant's fields replace the asked-for ones.
      const { channels: _c, scale: _s, mean: _m, std: _d, resize: _r, resizeTo: _t, preset: _p, ...rest } = overrides;
      void [_c, _s, _m, _d, _r, _t, _p];
      const notesBefore = built.notes;
      built = buildManifest(summary, { name, labels: opts.labels, overrides: { ...rest, ...best.overrides }, manifest: manifestSource }, readLabels);
      built.notes.unshift(...notesBefore.filter((n) => !built.notes.includes(n)));
      checkManifest(built.manifest, summary);
      const pct = (a: number) => `${(a * 100).toFixed(1)}%`;
      check = {
        ...check,
        passed: true,
        accuracy: best.accuracy,
        flags: best.flags,
        replaced: { flags: check.flags, accuracy: check.accuracy },
        message: `self-check: ${pct(best.accuracy)} with ${best.flags}, chosen by the self-check (${check.flags} scored ${pct(check.accuracy)})`,
      };
    }
    const { manifest, labels } = built;

    const target = join(this.dir, name);
    const staging = join(this.dir, `.${name}.staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      if (opts.move) renameSync(path, join(staging, 'model.onnx'));
      else copyFileSync(path, join(staging, 'model.onnx'));
      writeFileSync(join(staging, 'labels.txt'), labels.join('\n') + '\n');
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify({ ...manifest, source: opts.origin ?? basename(path) }, null, 2) + '\n');
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      this.store.add(name, manifest, check);
    } catch (e) {
      if (opts.move && existsSync(join(staging, 'model.onnx')) && !existsSync(path)) renameSync(join(staging, 'model.onnx'), path);
      rmSync(staging, { recursive: true, force: true });
      rmSync(target, { recursive: true, force: true });
      throw new FoolError('IO', `could not store model "${name}" in ${this.dir}: ${(e as Error).message}`, 'Check free space and permissions');
    }
    return { info: this.get(name), summary, notes: [...built.notes, ...notes.map((n) => `on load: ${n}`)], check };
  }

  /** Staging folders of `models add` runs that were killed before they finished (hundreds of MB). */
  private removeStaleStaging(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) {
      const m = /^\..+\.staging-(\d+)$/.exec(f);
      if (m && !processAlive(Number(m[1]))) rmSync(join(this.dir, f), { recursive: true, force: true });
    }
  }

  /** A model's manifest, labels and graph; for a model whose files are gone, what is missing instead. */
  show(name: string): { info: ModelInfo; summary?: GraphSummary; missing?: string } {
    const u = this.user().find((x) => x.manifest.name === name);
    if (u?.missing) {
      return { info: { manifest: u.manifest, path: resolve(u.base, u.manifest.file), labels: [], source: 'user', ...(u.check ? { check: u.check } : {}) }, missing: u.missing };
    }
    const info = this.get(name);
    const model = decodeModel(readModelFile(info.path), info.path);
    return { info, summary: summarize(model) };
  }

  /** The SHA-256 of a model's ONNX file (hex): how labs exchanging runs know a model they share. */
  hash(name: string): string {
    return fileHash(this.get(name).path);
  }

  /** This lab's model whose ONNX file has this hash, if any (shipped ones first). */
  findByHash(hash: string): string | null {
    for (const m of this.list()) {
      if (existsSync(m.file) && fileHash(m.file) === hash) return m.name;
    }
    return null;
  }

  /**
   * Copies another lab's model into this one under `name` (a free name): its ONNX file, labels and
   * manifest, as they were checked when added there. The files go beside the database first; the
   * row is added by the import's transaction (store/transfer.ts), so a killed import leaves at most a
   * folder no row names, which the next import of it reuses.
   */
  adoptFiles(from: ModelInfo, name: string): Manifest {
    const target = join(this.dir, name);
    const manifest: Manifest = { ...from.manifest, name, file: 'model.onnx', labels: 'labels.txt' };
    if (existsSync(join(target, 'model.onnx')) && fileHash(join(target, 'model.onnx')) === fileHash(from.path)) return manifest;
    const staging = join(this.dir, `.${name}.staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      copyFileSync(from.path, join(staging, 'model.onnx'));
      writeFileSync(join(staging, 'labels.txt'), from.labels.join('\n') + '\n');
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw new FoolError('IO', `could not copy model "${from.manifest.name}" into ${this.dir}: ${(e as Error).message}`, 'Check free space and permissions');
    }
    return manifest;
  }

  /** Records a model whose files adoptFiles copied (outside an import; an import records it in its own transaction). */
  addAdopted(manifest: Manifest): void {
    this.store.add(manifest.name, manifest);
  }

  /** Removes a user model: its row and its folder, whether or not its files are still there. */
  remove(name: string): void {
    if (this.shipped().some((x) => x.manifest.name === name)) {
      throw new FoolError('BAD_INPUT', `"${name}" ships with Fooling Lab and cannot be removed`, 'Only models added with "fool models add" can be removed');
    }
    if (!this.store.remove(name)) this.get(name); // throws the NOT_FOUND with the known names
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }
}

const hashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/** SHA-256 of a file, remembered while the file is unchanged (models are read again and again by imports). */
export function fileHash(path: string): string {
  const st = statSync(path);
  const known = hashes.get(path);
  if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.hash;
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashes.set(path, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
