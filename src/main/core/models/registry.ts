import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FoolError } from '../../../shared/errors';
import { ManifestSchema, type Manifest, type ModelInfo, type ModelSummary, type PresetName, PRESET_NAMES } from '../../../shared/manifest';
import type { ModelStore } from '../store/models';
import { labModelsDir, shippedModelsDir } from '../paths';
import { decodeModel, encodeModel, summarize, type Dim, type GraphSummary } from './onnx-graph';
import { prepareModel, readModelFile } from './prepare';
import { presetManifest, type PresetManifestOptions } from './presets';
import { sessionOptions } from './provider';

export interface AddModelOptions extends PresetManifestOptions {
  preset: PresetName;
  labels?: string;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function numeric(d: Dim | undefined): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
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
  const k = numeric(out.dims[out.dims.length - 1]);
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

  private user(): { manifest: Manifest; base: string }[] {
    return this.store.list().map((r) => ({ manifest: ManifestSchema.parse(r.manifest), base: join(this.dir, r.name) }));
  }

  list(): ModelSummary[] {
    const toSummary = (e: { manifest: Manifest; base: string }, source: 'shipped' | 'user'): ModelSummary => ({
      name: e.manifest.name,
      file: resolve(e.base, e.manifest.file),
      classes: e.manifest.classes,
      source,
      description: e.manifest.description,
    });
    return [...this.shipped().map((e) => toSummary(e, 'shipped')), ...this.user().map((e) => toSummary(e, 'user'))];
  }

  get(name: string): ModelInfo {
    for (const [source, entries] of [
      ['shipped', this.shipped()],
      ['user', this.user()],
    ] as const) {
      const e = entries.find((x) => x.manifest.name === name);
      if (e) {
        const labels = readLabels(resolve(e.base, e.manifest.labels));
        return { manifest: e.manifest, path: resolve(e.base, e.manifest.file), labels, source };
      }
    }
    const known = this.list().map((m) => m.name);
    throw new FoolError(
      'NOT_FOUND',
      `no model named "${name}" in this lab`,
      known.length ? `Known models: ${known.join(', ')} (fool models list)` : 'Add one with "fool models add FILE.onnx --name NAME --preset P"',
    );
  }

  /**
   * Validates everything first (file, graph, manifest, labels, a trial run in onnxruntime), then
   * copies the files beside the database and records the model, so a failure leaves the
   * registry as it was.
   */
  async add(file: string, opts: AddModelOptions): Promise<{ info: ModelInfo; summary: GraphSummary; notes: string[] }> {
    if (!PRESET_NAMES.includes(opts.preset)) {
      throw new FoolError('BAD_INPUT', `unknown preset "${opts.preset}"`, `Use one of: ${PRESET_NAMES.join(', ')}`);
    }
    const nameCheck = ManifestSchema.shape.name.safeParse(opts.name);
    if (!nameCheck.success) throw new FoolError('BAD_INPUT', `model name "${opts.name}" is not allowed: ${nameCheck.error.issues[0].message}`, 'Choose another --name');
    // Names that differ only in case share a folder on case-insensitive file systems (macOS, Windows).
    const same = this.list().find((m) => m.name.toLowerCase() === opts.name.toLowerCase());
    if (same) {
      const how = same.name === opts.name ? `a model named "${opts.name}" already exists in this lab` : `"${opts.name}" differs only in case from the model "${same.name}" (their files would share a folder on macOS and Windows)`;
      throw new FoolError('BAD_INPUT', how, `Choose another --name, or "fool models remove ${same.name}" first`);
    }
    this.removeStaleStaging();
    const path = resolve(file);
    const bytes = readModelFile(path);
    const model = decodeModel(bytes, path);
    const summary = summarize(model);

    let labels: string[];
    if (opts.labels) labels = readLabels(resolve(opts.labels));
    else if (opts.preset === 'mnist') labels = DIGITS;
    else throw new FoolError('BAD_INPUT', `preset ${opts.preset} needs a labels file`, 'Pass --labels FILE with one class name a line (e.g. synset_words.txt)');

    const manifest = presetManifest(opts.preset, summary, opts, labels.length, 'model.onnx', 'labels.txt');
    checkManifest(manifest, summary);
    const { notes } = prepareModel(model);
    await probeModel(encodeModel(model), manifest, path);

    const target = join(this.dir, opts.name);
    const staging = join(this.dir, `.${opts.name}.staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      copyFileSync(path, join(staging, 'model.onnx'));
      writeFileSync(join(staging, 'labels.txt'), labels.join('\n') + '\n');
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify({ ...manifest, source: basename(path) }, null, 2) + '\n');
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      this.store.add(opts.name, manifest);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      rmSync(target, { recursive: true, force: true });
      throw new FoolError('IO', `could not store model "${opts.name}" in ${this.dir}: ${(e as Error).message}`, 'Check free space and permissions');
    }
    return { info: this.get(opts.name), summary, notes };
  }

  /** Staging folders of `models add` runs that were killed before they finished (hundreds of MB). */
  private removeStaleStaging(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) {
      const m = /^\..+\.staging-(\d+)$/.exec(f);
      if (m && !processAlive(Number(m[1]))) rmSync(join(this.dir, f), { recursive: true, force: true });
    }
  }

  show(name: string): { info: ModelInfo; summary: GraphSummary } {
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

  remove(name: string): void {
    const info = this.get(name);
    if (info.source === 'shipped') {
      throw new FoolError('BAD_INPUT', `"${name}" ships with Fooling Lab and cannot be removed`, 'Only models added with "fool models add" can be removed');
    }
    this.store.remove(name);
    rmSync(dirname(info.path), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
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
