import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { explainError } from './system-errors';
import {
  parseRequest,
  type ApiEvent,
  type ApiMethod,
  type ApiRequests,
  type ApiResponse,
  type ApiResults,
  type IndividualDetail,
  type Lineage,
  type Prediction,
  type RunInfo,
  type RunTree,
  type AscentClass,
  type AscentView,
  type SavedAblation,
} from '../../shared/api';
import { EvolutionSettingsSchema } from '../../shared/engine';
import { FoolError, toErrorPayload } from '../../shared/errors';
import { ablate, type Fill } from './analysis/motifs';
import { buildTree } from './analysis/phylogeny';
import { meanImage } from './ascent/ascent';
import { WordNet } from './analysis/wordnet';
import type { GenomeView } from './engine/encoding';
import { encodingOf } from './engine/encodings';
import { EvolutionRun } from './evolution/run';
import { championImage, exportRun, planExport, writeExport } from './export/gallery';
import { Lab } from './lab';
import { Classifier, type ClassifierOptions } from './models/classifier';
import type { Image } from './models/image';
import { encodePng } from './models/png';
import { fitToModel } from './models/resize';
import { topPredictions } from './models/top-k';
import { AblationStore, type AblationRow } from './store/ablations';
import { AblationTools, modelCrop, pngDataUrl } from './ablation-tools';
import type { RunRow } from './store/runs';
import type { ApiContext, Handler } from './api/context';
import { experimentHandlers } from './api/experiments';
import { jobHandlers } from './api/jobs';
import { modelHandlers } from './api/models';
import { runHandlers } from './api/runs';
import { sweepHandlers } from './api/sweeps';
import { workHandlers } from './api/work';
import { JobManager } from './jobs';

/**
 * The service façade behind all three hosts (CLI in-process, Electron IPC, `fool serve`): every
 * method of the API contract (src/shared/api.ts) over one Lab. Hosts validate a request with
 * `parseRequest` and then call `execute`; `call` does both for hosts that need nothing in between.
 * The methods are grouped by domain: the app's first ones below, the others in api/*.ts (one
 * handler table per domain). Long work (evolution, ascent, training, experiments, evaluation) runs
 * as jobs (jobs.ts) in this process in the background (the loops are async; rendering and
 * classification are in worker threads) and reports `job.progress` / `job.end` events; evolution
 * runs also report `run.progress` / `run.status`.
 */

type Parsed<M extends ApiMethod> = z.output<(typeof ApiRequests)[M]>;

export interface LabApiOptions {
  /** For evolution runs started here. */
  classifier?: ClassifierOptions;
  renderWorkers?: number;
  /** Thumbnails kept in memory. */
  imageCacheSize?: number;
}

interface LiveRun {
  jobId: number;
  done: Promise<unknown>;
}

/** A run marked 'running' by another process is taken as alive while it wrote this recently. */
const FOREIGN_RUN_GRACE_MS = 5 * 60_000;
/** Models kept open for detail, classify and ablation calls (each holds a worker thread). */
const MAX_OPEN_CLASSIFIERS = 3;

export class LabApi {
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly live = new Map<number, LiveRun>();
  /** Open classifiers by model name, most recently used last. */
  private readonly classifiers = new Map<string, Promise<Classifier>>();
  private readonly thumbs = new Map<string, Buffer>();
  private readonly ablations: AblationStore;
  private readonly tools: AblationTools;
  private closed = false;
  /** Long work of this process; its events go out on the same stream as the runs'. */
  readonly jobs: JobManager;
  /** The methods of the domain modules in api/ (experiments, models, jobs, runs, work). */
  private readonly handlers: Partial<Record<ApiMethod, Handler<ApiMethod>>>;

  constructor(
    readonly lab: Lab,
    private readonly opts: LabApiOptions = {},
  ) {
    this.ablations = new AblationStore(lab.db);
    this.tools = new AblationTools(lab, (m) => this.classifier(m));
    this.jobs = new JobManager((e) => this.emit(e), lab.dbPath);
    const ctx: ApiContext = { lab, jobs: this.jobs, classifier: opts.classifier, isLive: (runId) => this.live.has(runId) };
    this.handlers = { ...experimentHandlers(ctx), ...modelHandlers(ctx), ...jobHandlers(ctx), ...runHandlers(ctx), ...sweepHandlers(ctx), ...workHandlers(ctx) } as Partial<Record<ApiMethod, Handler<ApiMethod>>>;
  }

  /** Subscribe to run events; returns the unsubscribe function. */
  onEvent(cb: (e: ApiEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(e: ApiEvent): void {
    for (const cb of this.listeners) {
      try {
        cb(e);
      } catch {
        // a broken listener (a closed connection) must not stop a run
      }
    }
  }

  /** Validate, then execute; never throws: failures come back as { ok: false, error }. */
  async call(method: string, params: unknown): Promise<ApiResponse<ApiMethod>> {
    const req = parseRequest(method, params);
    if (!req.ok) return { ok: false, error: req.error };
    return this.execute(req.method, req.params);
  }

  /** Runs an already validated request (hosts call parseRequest first). Never throws. */
  async execute<M extends ApiMethod>(method: M, params: Parsed<M>): Promise<ApiResponse<M>> {
    try {
      if (this.closed) throw new FoolError('UNSUPPORTED', 'the lab is shutting down', 'Try again after restarting');
      const result = await this.dispatch(method, params);
      return { ok: true, result: result as ApiResults[M] };
    } catch (e) {
      return { ok: false, error: toErrorPayload(explainError(e, this.lab.dbPath)) };
    }
  }

  private async dispatch<M extends ApiMethod>(method: M, p: Parsed<M>): Promise<ApiResults[ApiMethod]> {
    // Each case narrows the params by hand: TypeScript does not narrow a generic M from a switch.
    const q = p as Record<string, unknown>;
    switch (method) {
      case 'models.list':
        return this.lab.models.list();
      case 'runs.list':
        return this.lab.runs.list().map((r) => this.runInfo(r));
      case 'runs.get':
        return this.runGet(q.runId as number);
      case 'runs.start':
        return this.runStart(p as Parsed<'runs.start'>);
      case 'runs.stop':
        return this.runStop(q.runId as number);
      case 'runs.resume':
        return this.runResume(q.runId as number, q.generations as number | undefined, q.takeOver === true);
      case 'runs.champions':
        return this.lab.runs.champions(q.runId as number);
      case 'individual.get':
        return this.individual(q.runId as number, q.individualId as number);
      case 'individual.classify':
        return this.classifyUnder(q.runId as number, q.individualId as number, q.model as string);
      case 'lineage.get':
        return this.lineage(q.runId as number, q.class as number);
      case 'runs.tree':
        return this.tree(q.runId as number);
      case 'runs.ascent':
        return this.ascentView(q.runId as number);
      case 'ablation.detect':
        return this.tools.motifs(q.runId as number, q.individualId as number);
      case 'ablation.apply': {
        const a = await this.ablation(p as Parsed<'ablation.apply'>);
        return { ...a.result, image: await pngDataUrl(a.image) };
      }
      case 'ablation.save':
        return this.ablationSave(p as Parsed<'ablation.save'>);
      case 'ablation.list':
        this.lab.runs.individual(q.runId as number, q.individualId as number);
        return this.ablations.list(q.runId as number, q.individualId as number).map(savedAblation);
      case 'ablation.copies':
        return this.tools.copies(p as Parsed<'ablation.copies'>);
      case 'genome.nodes':
        return this.tools.nodes(q.runId as number, q.individualId as number, (p as Parsed<'genome.nodes'>).edits);
      case 'genome.apply': {
        const { png: _png, ...r } = await this.tools.apply(p as Parsed<'genome.apply'>);
        return r;
      }
      case 'genome.repetition':
        return this.tools.repetition(q.runId as number, q.individualId as number);
      case 'genome.save':
        return this.tools.save(p as Parsed<'genome.save'>);
      case 'genome.list':
        return this.tools.list(q.runId as number, q.individualId as number);
      case 'export.run': {
        const e = p as Parsed<'export.run'>;
        return exportRun(this.lab, e.runId, e.outDir, { classes: e.classes });
      }
      case 'export.start': {
        const e = p as Parsed<'export.start'>;
        // Checked (and the folder prepared) before the job starts: bad input is the caller's error.
        const plan = planExport(this.lab, e.runId, e.outDir, { classes: e.classes });
        const job = this.jobs.start('export', (jc) =>
          writeExport(this.lab, plan, { signal: jc.signal, onProgress: (done, total, file) => jc.progress({ done, total, message: file }) }),
        );
        return { jobId: job.jobId };
      }
      default: {
        const h = this.handlers[method];
        if (!h) throw new FoolError('BAD_INPUT', `unknown API method "${String(method)}"`);
        return h(p as never);
      }
    }
  }

  // ---- runs -----------------------------------------------------------------------------------

  private runInfo(r: RunRow): RunInfo {
    return { ...this.lab.runs.listing(r), live: this.live.has(r.id) };
  }

  private runGet(runId: number): ApiResults['runs.get'] {
    const r = this.lab.runs.get(runId);
    return { run: this.runInfo(r), settings: r.settings, stats: this.lab.runs.stats(runId), labels: r.labels };
  }

  private runStart(p: Parsed<'runs.start'>): { runId: number; jobId: number } {
    const evo = EvolutionRun.create(this.lab, { model: p.model, encoding: p.encoding, generations: p.generations, batch: p.batch, seed: p.seed, overrides: p.overrides, tenCrop: p.tenCrop });
    return { runId: evo.runId, jobId: this.drive(evo) };
  }

  private runStop(runId: number): { runId: number } {
    const r = this.lab.runs.get(runId);
    const live = this.live.get(runId);
    if (live) this.jobs.cancel(live.jobId);
    else if (r.status === 'running' && this.foreignAlive(r)) {
      throw new FoolError('BAD_INPUT', `run ${runId} is being run by another process (the command line?), not by this app`, 'Stop it there (Ctrl-C)');
    }
    // Stopping a run that is not running is a no-op: the caller's wish already holds.
    return { runId };
  }

  private runResume(runId: number, generations?: number, takeOver = false): { runId: number; jobId: number } {
    const r = this.lab.runs.get(runId);
    if (this.live.has(runId)) throw new FoolError('BAD_INPUT', `run ${runId} is already running`, 'Stop it first, or wait for it');
    if (r.status === 'running' && !takeOver && this.foreignAlive(r)) {
      throw new FoolError('BAD_INPUT', `run ${runId} is being run by another process (the command line?)`, 'Wait for it to finish, or stop it there');
    }
    return { runId, jobId: this.drive(EvolutionRun.resume(this.lab, runId, generations)) };
  }

  /** Whether another process wrote this 'running' run recently (else it died and may be resumed). */
  private foreignAlive(r: RunRow): boolean {
    return Date.now() - Date.parse(r.updatedAt) < FOREIGN_RUN_GRACE_MS;
  }

  /**
   * Runs an evolution as a job ('evolve'); progress and the outcome go out as run events (the app's)
   * and job events. Cancelling the job stops it after the current generation, which is committed.
   * The job's result is what the command line prints: the run summary.
   */
  private drive(evo: EvolutionRun): number {
    const { runId } = evo;
    // ETA from a moving average of the seconds per generation (the first generations are slower).
    let avg = 0;
    const job = this.jobs.start('evolve', async (jc) => {
      jc.ids({ runId });
      try {
        const s = await evo.run({
          signal: jc.signal,
          classifier: this.opts.classifier,
          renderWorkers: this.opts.renderWorkers,
          onGeneration: (g) => {
            avg = avg === 0 ? g.seconds : 0.8 * avg + 0.2 * g.seconds;
            this.emit({
              type: 'run.progress',
              runId,
              generation: g.generation,
              generations: g.generations,
              stats: g.stats,
              evaluationsPerSecond: g.evaluationsPerSecond,
              etaSeconds: Math.max(0, g.generations - g.generation) * avg,
            });
            jc.progress({ done: g.generation, total: g.generations });
          },
        });
        // No longer live before anyone hears it ended (a listener may resume it at once).
        this.live.delete(runId);
        this.emit({ type: 'run.status', runId, status: s.run.status });
        return { runId, status: s.run.status, stopped: s.stopped, seconds: s.seconds, evaluations: s.evaluations, generation: s.run.lastGeneration };
      } catch (e) {
        this.live.delete(runId);
        this.emit({ type: 'run.status', runId, status: 'failed', message: toErrorPayload(e).message });
        throw e;
      }
    });
    this.live.set(runId, { jobId: job.jobId, done: job.ended });
    this.emit({ type: 'run.status', runId, status: 'running' });
    return job.jobId;
  }

  // ---- individuals ----------------------------------------------------------------------------

  /** The individual's pixels, re-rendered from its genome (images are not stored). */
  private image_(runId: number, individualId: number): Image {
    return championImage(this.lab, runId, individualId);
  }

  private async predict(model: string, img: Image, k = 5): Promise<{ probs: Float32Array; top: Prediction[] }> {
    const c = await this.classifier(model);
    // Another model may take another size: the one resize every caller uses (models/resize.ts).
    const input = await fitToModel(img, c.info.manifest.input);
    const probs = await c.classify({ n: 1, ...input });
    return { probs, top: topPredictions(probs, c.info.labels, k) };
  }

  private async individual(runId: number, individualId: number): Promise<IndividualDetail> {
    const run = this.lab.runs.get(runId);
    const ind = this.lab.runs.individual(runId, individualId);
    const img = this.image_(runId, individualId);
    const { top } = await this.predict(run.model, img);
    // What the app shows of the genome is its encoding's to say (ascent runs store images, no genome).
    let view: GenomeView = { cppn: null };
    if (run.kind === 'evolution') {
      const encoding = encodingOf(run.encoding);
      view = encoding.describe(encoding.decode(ind.genome), EvolutionSettingsSchema.parse(run.settings));
    }
    const held = this.lab.runs.champions(runId).filter((c) => c.individualId === individualId).map((c) => c.class);
    return {
      runId,
      individualId,
      parentId: ind.parentId,
      generation: ind.generation,
      encoding: run.encoding,
      width: img.width,
      height: img.height,
      channels: img.channels,
      classesHeld: held,
      top,
      ...view,
      pixels: pixelStats(img),
      crop: modelCrop(this.lab.models.get(run.model), img.width, img.height),
    };
  }

  private async classifyUnder(runId: number, individualId: number, model: string): Promise<ApiResults['individual.classify']> {
    this.lab.models.get(model); // a clear NOT_FOUND before any rendering
    const { top } = await this.predict(model, this.image_(runId, individualId));
    return { model, top };
  }

  private lineage(runId: number, cls: number): Lineage {
    const run = this.lab.runs.get(runId);
    const chain = this.lab.runs.lineage(runId, cls);
    const steps = chain.map((i) => {
      const own = i.top.find(([c]) => c === cls) ?? i.won.find(([c]) => c === cls);
      return { individualId: i.id, parentId: i.parentId, generation: i.generation, confidence: own ? own[1] : null, classesHeld: i.won.map(([c]) => c), labelsHeld: i.won.map(([c]) => run.labels[c] ?? String(c)), top: i.top.map(([c, p]) => ({ class: c, label: run.labels[c], confidence: p })) };
    });
    // The family: other champions whose ancestry meets this chain. One query for the run's
    // parent links, then each champion walks up until it reaches an ancestor of this one.
    const ancestors = new Map(chain.map((i) => [i.id, i.generation]));
    const parent = this.lab.runs.parentLinks(runId);
    const family: Lineage['family'] = [];
    for (const c of this.lab.runs.champions(runId)) {
      if (c.class === cls) continue;
      let id: number | null | undefined = c.individualId;
      while (id !== null && id !== undefined && !ancestors.has(id)) id = parent.get(id);
      if (id === null || id === undefined) continue;
      family.push({ class: c.class, label: c.label, individualId: c.individualId, commonAncestorId: id, commonAncestorGeneration: ancestors.get(id)! });
    }
    family.sort((a, b) => b.commonAncestorGeneration - a.commonAncestorGeneration || a.class - b.class);
    return { runId, class: cls, label: run.labels[cls] ?? String(cls), chain: steps, family };
  }

  private async ascentView(runId: number): Promise<AscentView> {
    const run = this.lab.runs.get(runId);
    if (run.kind !== 'ascent') throw new FoolError('BAD_INPUT', `run ${runId} is an evolution run, not a gradient-ascent run`, `Open it as a run: #/run/${runId}`);
    const inds = this.lab.runs.championIndividuals(runId);
    const classes: AscentClass[] = this.lab.runs.champions(runId).map((c) => {
      const extra = (inds.get(c.individualId)?.extra ?? {}) as { trace?: number[]; stepsTo?: AscentClass['stepsTo'] };
      const trace = extra.trace ?? [];
      return { class: c.class, label: c.label, individualId: c.individualId, confidence: c.confidence, steps: Math.max(0, trace.length - 1), trace, stepsTo: extra.stepsTo ?? { '0.99': null, '0.999': null, '0.9999': null } };
    });
    let startImage: string | null = null;
    try {
      const info = this.lab.models.get(run.model);
      const s = info.manifest.input;
      const mean = meanImage(info);
      const png = await encodePng({ width: s.width, height: s.height, channels: s.channels as 1 | 3, data: Uint8Array.from(mean, (v) => Math.round(v)) });
      startImage = `data:image/png;base64,${png.toString('base64')}`;
    } catch {
      // The model was removed since: the classes still show.
    }
    return { runId, settings: run.settings, startImage, classes };
  }

  private wordnet: WordNet | null | undefined;

  private tree(runId: number): RunTree {
    const run = this.lab.runs.get(runId);
    if (this.wordnet === undefined) this.wordnet = WordNet.open();
    return buildTree(runId, run.classes, run.labels, run.lastGeneration, this.lab.runs.ancestry(runId), this.lab.runs.champions(runId), this.wordnet);
  }

  // ---- ablation -------------------------------------------------------------------------------

  private async ablation(p: { runId: number; individualId: number; class: number; mask: string; fill: Fill }) {
    const run = this.lab.runs.get(p.runId);
    if (p.class >= run.classes) throw new FoolError('BAD_INPUT', `class ${p.class} is out of range for run ${p.runId}`, `Classes are 0..${run.classes - 1}`);
    const img = this.image_(p.runId, p.individualId);
    const mask = decodeMask(p.mask, img.width * img.height);
    const { image, maskedPixels } = ablate(img, mask, p.fill);
    const before = await this.predict(run.model, img);
    const after = await this.predict(run.model, image);
    return {
      image,
      mask,
      result: { confidenceBefore: before.probs[p.class], confidenceAfter: after.probs[p.class], top: after.top, maskedPixels },
    };
  }

  private async ablationSave(p: Parsed<'ablation.save'>): Promise<SavedAblation> {
    const { image, mask, result } = await this.ablation(p);
    const png = await encodePng(image);
    const row = this.ablations.add({ runId: p.runId, individualId: p.individualId, class: p.class, fill: p.fill, mask, png, note: p.note, ...result });
    return savedAblation(row);
  }

  // ---- images and resources -------------------------------------------------------------------

  /**
   * An individual's image as PNG, `size` pixels on its longer side (nearest-neighbour when
   * enlarging, so MNIST pixels stay crisp). Thumbnails are cached: individuals never change.
   */
  async image(runId: number, individualId: number, size?: number): Promise<Buffer> {
    if (!Number.isInteger(runId) || runId < 1 || !Number.isInteger(individualId) || individualId < 0) {
      throw new FoolError('BAD_INPUT', `no image for run ${runId}, individual ${individualId}`, 'Ids are non-negative integers');
    }
    if (size !== undefined && (!Number.isInteger(size) || size < 8 || size > 2048)) {
      throw new FoolError('BAD_INPUT', `size must be an integer from 8 to 2048, got ${size}`);
    }
    const key = `${runId}/${individualId}/${size ?? 0}`;
    const hit = this.thumbs.get(key);
    if (hit) {
      this.thumbs.delete(key);
      this.thumbs.set(key, hit);
      return hit;
    }
    const png = await encodePng(this.image_(runId, individualId), { size });
    this.thumbs.set(key, png);
    const max = this.opts.imageCacheSize ?? 512;
    while (this.thumbs.size > max) this.thumbs.delete(this.thumbs.keys().next().value!);
    return png;
  }

  /** A classifier for `model`, opened once and kept (a few, least recently used closed first). */
  private async classifier(model: string): Promise<Classifier> {
    let c = this.classifiers.get(model);
    if (c) {
      this.classifiers.delete(model);
      this.classifiers.set(model, c);
      return c;
    }
    const info = this.lab.models.get(model);
    // One worker: these are single images, and runs need the cores.
    c = Classifier.open(info, { ...this.opts.classifier, workers: 1 });
    this.classifiers.set(model, c);
    c.catch(() => this.classifiers.delete(model));
    while (this.classifiers.size > MAX_OPEN_CLASSIFIERS) {
      const [name, old] = this.classifiers.entries().next().value!;
      this.classifiers.delete(name);
      void old.then((x) => x.close()).catch(() => undefined);
    }
    return c;
  }

  /**
   * Where a file sent by the browser is kept (the web host's upload route streams it there): a new
   * file in the lab's uploads folder, beside its database, named after the original. models.add
   * then copies it into the lab's model folder like any file on this machine.
   */
  uploadPath(name: string): string {
    const base = basename(name).replace(/[^A-Za-z0-9._-]/g, '_').slice(-120);
    if (!/\.(onnx|txt|json)$/i.test(base)) {
      throw new FoolError('BAD_INPUT', `cannot take "${name}": only .onnx models and .txt or .json label files are uploaded`, 'Choose an ONNX file (and optionally its labels, one per line)');
    }
    const dir = join(dirname(resolve(this.lab.dbPath)), 'uploads');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-${base}`);
  }

  /** Runs in flight (ids). */
  liveRuns(): number[] {
    return [...this.live.keys()];
  }

  /**
   * Stops live runs after their current generation (it is committed), closes the classifiers and
   * the database. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.jobs.closeAll();
    const cs = [...this.classifiers.values()];
    this.classifiers.clear();
    await Promise.all(cs.map((c) => c.then((x) => x.close()).catch(() => undefined)));
    this.listeners.clear();
    this.wordnet?.close();
    this.lab.close();
  }
}

function savedAblation(r: AblationRow): SavedAblation {
  return {
    ablationId: r.ablationId,
    class: r.class,
    fill: r.fill,
    note: r.note,
    createdAt: r.createdAt,
    confidenceBefore: r.confidenceBefore,
    confidenceAfter: r.confidenceAfter,
    top: r.top,
    maskedPixels: r.maskedPixels,
  };
}

/** The mask of ablation requests: base64, one byte (0/1) per pixel. */
function decodeMask(b64: string, pixels: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new FoolError('BAD_INPUT', 'the mask is not base64', 'Send one byte (0 or 1) per pixel, base64-encoded');
  const buf = Buffer.from(b64, 'base64');
  if (buf.length !== pixels) throw new FoolError('BAD_INPUT', `the mask holds ${buf.length} pixels but the image has ${pixels}`, 'Send one byte per pixel of the image (width x height)');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Per-channel mean and standard deviation, and a 16-bin histogram over every channel value. */
function pixelStats(img: Image): IndividualDetail['pixels'] {
  const C = img.channels;
  const n = img.width * img.height;
  const sum = new Array<number>(C).fill(0);
  const sq = new Array<number>(C).fill(0);
  const histogram = new Array<number>(16).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const v = img.data[i * C + c];
      sum[c] += v;
      sq[c] += v * v;
      histogram[v >> 4]++;
    }
  }
  const mean = sum.map((s) => s / n);
  return { mean, std: sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] ** 2))), histogram };
}

// ---- the API entry: what hosts import from the core (the CLI imports nothing else) ----------------

export { experimentKinds, registerExperiment } from './experiments/registry';
export type { CliOptionSpec, ExperimentKind } from './experiments/kind';
export type { ClassifierOptions } from './models/classifier';
export { packageRoot, resolveDbPath } from './paths';
export { explainError } from './system-errors';
export { Lab };

/** One lab and its API, as an in-process host (the CLI, tests) opens them; close the API when done. */
export function openLabApi(dbPath: string, opts: LabApiOptions = {}): LabApi {
  return new LabApi(new Lab(dbPath), opts);
}
