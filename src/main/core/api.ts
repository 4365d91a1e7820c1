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
  type RunInfo,
} from '../../shared/api';
import { FoolError, toErrorPayload } from '../../shared/errors';
import { EvolutionRun } from './evolution/run';
import { Lab } from './lab';
import { Classifier, type ClassifierOptions } from './models/classifier';
import { assertProviderUsable } from './models/provider';
import { encodePng } from './models/png';
import type { RunRow } from './store/runs';
import type { ApiContext, Handler } from './api/context';
import { ablationHandlers } from './api/ablations';
import { experimentHandlers } from './api/experiments';
import { exportHandlers } from './api/exports';
import { individualHandlers } from './api/individuals';
import { individualImage } from './individual-image';
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
 * The methods are grouped by domain: the runs' life (start, stop, resume: this façade holds the live
 * runs), their images and the classifiers it keeps open are below; every other domain is a handler
 * table in api/*.ts (individuals, ablations, exports, experiments, models, jobs, runs, sweeps,
 * work). Long work (evolution, ascent, training, experiments, evaluation) runs as jobs (jobs.ts)
 * in this process in the background (the loops are async; rendering and classification are in
 * worker threads) and reports `job.progress` / `job.end` events; evolution runs also report
 * `run.progress` / `run.status`.
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
  private readonly closeIndividuals: () => void;
  private closed = false;
  /** Long work of this process; its events go out on the same stream as the runs'. */
  readonly jobs: JobManager;
  /** The methods of the domain modules in api/ (individuals, ablations, exports, experiments, models, jobs, runs, sweeps, work). */
  private readonly handlers: Partial<Record<ApiMethod, Handler<ApiMethod>>>;

  constructor(
    readonly lab: Lab,
    private readonly opts: LabApiOptions = {},
  ) {
    this.jobs = new JobManager((e) => this.emit(e), lab.dbPath);
    const ctx: ApiContext = { lab, jobs: this.jobs, classifier: opts.classifier, isLive: (runId) => this.live.has(runId), openClassifier: (m) => this.classifier(m) };
    const { close: closeIndividuals, ...individuals } = individualHandlers(ctx);
    this.closeIndividuals = closeIndividuals;
    this.handlers = {
      ...individuals,
      ...ablationHandlers(ctx),
      ...exportHandlers(ctx),
      ...experimentHandlers(ctx),
      ...modelHandlers(ctx),
      ...jobHandlers(ctx),
      ...runHandlers(ctx),
      ...sweepHandlers(ctx),
      ...workHandlers(ctx),
    } as Partial<Record<ApiMethod, Handler<ApiMethod>>>;
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
              evaluations: g.runEvaluations,
              seconds: g.runSeconds,
              provider: g.provider,
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
    const png = await encodePng(individualImage(this.lab, runId, individualId), { size });
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
    this.closeIndividuals();
    this.lab.close();
  }
}

// ---- the API entry: what hosts import from the core (the CLI imports nothing else) ----------------

export { experimentKinds, registerExperiment } from './experiments/registry';
export type { CliFlagSpec, ExperimentKind } from './experiments/kind';
export type { ClassifierOptions } from './models/classifier';
export { packageRoot, resolveDbPath } from './paths';
export { explainError } from './system-errors';
export { Lab };

/** One lab and its API, as an in-process host (the CLI, tests) opens them; close the API when done. */
export function openLabApi(dbPath: string, opts: LabApiOptions = {}): LabApi {
  // Checked before the lab opens: a command asking for CUDA where it cannot run must not leave an
  // empty run or experiment (or a new lab) behind.
  if (opts.classifier) assertProviderUsable(opts.classifier.provider);
  return new LabApi(new Lab(dbPath), opts);
}
