import type { JobEvent, JobInfo, JobProgress } from '../../shared/api';

type JobEndStatus = 'finished' | 'cancelled' | 'failed';
import { explainError } from './system-errors';
import { toErrorPayload } from '../../shared/errors';

/**
 * Long operations (evolution, ascent, training, experiments, model evaluation) run as jobs: starting
 * one returns at once with its id; progress and the end go out as `job.progress` / `job.end` events on
 * the API's event stream; `cancel` aborts its signal, and the work stops at its next safe point
 * (evolution: after the current generation, which is committed). Jobs live in this process only:
 * what they produce (runs, experiments) is in the database; the job record itself is not.
 */

export interface JobContext {
  signal: AbortSignal;
  /** Progress for listeners (CLI bars, the app). `detail` carries kind-specific fields. */
  progress(p: JobProgress): void;
  /** Ids the job made (a run, an experiment), as soon as it has them: `started` resolves with them. */
  ids(ids: { runId?: number; experimentId?: number }): void;
}

interface Job {
  info: JobInfo;
  ac: AbortController;
  finished: Promise<void>;
}

/** Jobs that ended are kept this long in `list` (so a caller sees how its job ended). */
const KEEP_ENDED = 200;

export class JobManager {
  private readonly jobs = new Map<number, Job>();
  private next = 1;

  constructor(
    private readonly emit: (e: JobEvent) => void,
    /** The lab, named in errors the system raises without a path (a full disk, a read-only file). */
    private readonly dbPath?: string,
  ) {}

  /**
   * Starts `work` in the background. `started` resolves once the job has told its ids (or has ended),
   * and rejects when it failed before that: a bad parameter found while planning is the caller's
   * error, not a failed job. `ended` resolves with the job's result (never rejects). `subject` names
   * what the job works on when that is not a run or an experiment (a catalogue entry, a model), so
   * that a page opened later finds the job (jobs.list) and follows it.
   */
  start<R>(
    kind: string,
    work: (ctx: JobContext) => Promise<R>,
    opts: { waitForIds?: boolean; subject?: string } = {},
  ): { jobId: number; started: Promise<JobInfo>; ended: Promise<JobInfo> } {
    const jobId = this.next++;
    const ac = new AbortController();
    const j: JobInfo = { jobId, kind, status: 'running', done: 0, total: 0, message: '', createdAt: new Date().toISOString(), ...(opts.subject ? { subject: opts.subject } : {}) };
    let told!: (j: JobInfo) => void;
    let failedEarly!: (e: unknown) => void;
    const started = new Promise<JobInfo>((ok, fail) => {
      told = ok;
      failedEarly = fail;
    });
    // Keep the promise from being reported as unhandled when nobody waits for `started`.
    started.catch(() => undefined);
    let hasIds = false;
    const tell = () => {
      if (hasIds) return;
      hasIds = true;
      told(copy(j));
    };
    const ctx: JobContext = {
      signal: ac.signal,
      progress: (p) => {
        j.done = p.done ?? j.done;
        j.total = p.total ?? j.total;
        j.message = p.message ?? j.message;
        this.emit({ type: 'job.progress', jobId, kind, done: j.done, total: j.total, message: j.message, ...(p.detail ? { detail: p.detail } : {}) });
      },
      ids: (ids) => {
        if (ids.runId !== undefined) j.runId = ids.runId;
        if (ids.experimentId !== undefined) j.experimentId = ids.experimentId;
        tell();
      },
    };
    const finished = (async () => {
      // The caller gets the id (and subscribes) before the first event.
      await Promise.resolve();
      try {
        j.result = await work(ctx);
        j.status = ac.signal.aborted ? 'cancelled' : 'finished';
      } catch (e) {
        j.status = 'failed';
        j.error = toErrorPayload(explainError(e, this.dbPath));
        if (!hasIds && opts.waitForIds) {
          hasIds = true;
          failedEarly(e);
        }
      }
      tell();
      j.endedAt = new Date().toISOString();
      this.prune();
      const { result, error } = j;
      this.emit({ type: 'job.end', jobId, kind, status: j.status as JobEndStatus, ...ids(j), ...(result !== undefined ? { result } : {}), ...(error ? { error } : {}) });
    })();
    this.jobs.set(jobId, { info: j, ac, finished });
    if (!opts.waitForIds) tell();
    return { jobId, started, ended: finished.then(() => copy(j)) };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => copy(j.info));
  }

  get(jobId: number): JobInfo | undefined {
    const j = this.jobs.get(jobId);
    return j && copy(j.info);
  }

  /** Asks a running job to stop at its next safe point; false when it is not running. */
  cancel(jobId: number): boolean {
    const j = this.jobs.get(jobId);
    if (!j || j.info.status !== 'running') return false;
    j.ac.abort();
    return true;
  }

  /** Cancels every running job and waits for them to end. */
  async closeAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.info.status === 'running');
    for (const j of running) j.ac.abort();
    await Promise.all(running.map((j) => j.finished));
  }

  private prune(): void {
    const ended = [...this.jobs.values()].filter((j) => j.info.status !== 'running');
    for (const j of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.jobs.delete(j.info.jobId);
  }
}

function ids(j: JobInfo): { runId?: number; experimentId?: number } {
  return { ...(j.runId !== undefined ? { runId: j.runId } : {}), ...(j.experimentId !== undefined ? { experimentId: j.experimentId } : {}) };
}

function copy(j: JobInfo): JobInfo {
  return { ...j };
}
