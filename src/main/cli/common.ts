import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import type { ApiEvent, ApiMethod, ApiParams, ApiResults, JobEvent } from '../../shared/api';
import { fromErrorPayload, isFoolError, toErrorPayload } from '../../shared/errors';
import { openLabApi, resolveDbPath, type ClassifierOptions, type LabApi } from '../core/api';

/** Options every command understands; declared once on the program (see fool.ts). */
export interface GlobalOptions {
  db?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions & { dbPath: string } {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  return { ...o, dbPath: resolveDbPath(o.db) };
}

/** What a command returns: the JSON document for --json, and the text for people. */
export interface CommandResult {
  json: unknown;
  text: string;
}

/**
 * Wraps a command's work: prints its result as text or as exactly one JSON document on stdout,
 * and turns every failure into one clear message and a non-zero exit code, never a stack trace
 * (set FOOL_DEBUG=1 to see one).
 */
export function run(work: (cmd: Command, ...args: unknown[]) => Promise<CommandResult | void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const { json } = cmd.optsWithGlobals() as GlobalOptions;
    try {
      const result = await work(cmd, ...args.slice(0, -1));
      if (!result) return;
      if (json) process.stdout.write(JSON.stringify(result.json, null, 2) + '\n');
      else if (result.text) process.stdout.write(result.text.endsWith('\n') ? result.text : result.text + '\n');
    } catch (e) {
      const payload = toErrorPayload(e);
      if (json) process.stdout.write(JSON.stringify({ error: payload }) + '\n');
      process.stderr.write(`fool: ${payload.message}\n`);
      if (process.env.FOOL_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = isFoolError(e) ? 2 : 1;
    }
  };
}

type JobEnd = Extract<JobEvent, { type: 'job.end' }>;

/** The lab as a command sees it: the API's methods, its events, and jobs to follow to their end. */
export interface LabClient {
  dbPath: string;
  /** Calls a method; a failure is thrown as the error it was (a FoolError for bad input: exit 2). */
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]>;
  /** Every event of the lab (run.progress, job.progress, ...) until the command ends. */
  onEvent(cb: (e: ApiEvent) => void): void;
  /**
   * Waits for a job's end, calling onEvent with its events; Ctrl-C cancels it (`stopMessage` says
   * what happens; a second Ctrl-C quits at once). stopMessage null: Ctrl-C quits at once (work
   * with no safe point to stop at).
   */
  follow(jobId: number, onEvent?: (e: ApiEvent) => void, stopMessage?: string | null): Promise<JobEnd>;
}

/**
 * Opens the lab of --db (or $FOOL_DB, or the per-user one) with its API in this process, runs the
 * command's work against it, and closes it (running jobs stop at their next safe point). With
 * `classifier`, the command's --provider/--workers/--threads/--max-batch go to the API.
 */
export async function withLab<T>(cmd: Command, work: (lab: LabClient) => Promise<T>, opts: { classifier?: ClassifierOptions } = {}): Promise<T> {
  const { dbPath } = globals(cmd);
  const api: LabApi = openLabApi(dbPath, { classifier: opts.classifier });
  const ended = new Map<number, JobEnd>();
  const waiting = new Map<number, (e: JobEnd) => void>();
  const listeners = new Set<(e: ApiEvent) => void>();
  api.onEvent((e) => {
    for (const cb of listeners) cb(e);
    if (e.type === 'job.end') {
      ended.set(e.jobId, e);
      waiting.get(e.jobId)?.(e);
    }
  });
  const client: LabClient = {
    dbPath,
    async call(method, params) {
      const r = await api.call(method, params);
      if (r.ok) return r.result as ApiResults[typeof method];
      // INTERNAL is a bug or the system's failure, not the user's input (exit 1, not 2).
      throw r.error.code === 'INTERNAL' ? new Error(r.error.message) : fromErrorPayload(r.error);
    },
    onEvent: (cb) => void listeners.add(cb),
    async follow(jobId, onEvent, stopMessage) {
      const mine = (e: ApiEvent) => {
        // Run events carry no job id; a command follows one job at a time.
        if (!('jobId' in e) || e.jobId === jobId) onEvent?.(e);
      };
      listeners.add(mine);
      const stop = stopMessage === null ? { dispose: () => undefined } : stopOnSigint(stopMessage);
      if ('signal' in stop) stop.signal.addEventListener('abort', () => void api.call('jobs.cancel', { jobId }));
      try {
        return await new Promise<JobEnd>((done) => {
          const e = ended.get(jobId);
          if (e) return done(e);
          waiting.set(jobId, done);
        });
      } finally {
        waiting.delete(jobId);
        stop.dispose();
        listeners.delete(mine);
      }
    },
  };
  try {
    return await work(client);
  } finally {
    await api.close();
  }
}

/** A job's result, or its failure thrown as the error it was. */
export function jobResult<R>(end: JobEnd): R {
  if (end.status === 'failed') throw end.error && end.error.code !== 'INTERNAL' ? fromErrorPayload(end.error) : new Error(end.error?.message ?? 'the job failed');
  return end.result as R;
}

export function parseIntOption(name: string, min = 1): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}"`);
    }
    return n;
  };
}

/**
 * Ctrl-C once: abort the signal, so the work stops at its next safe point (`message` says which);
 * twice: quit now.
 */
export function stopOnSigint(message = 'Stopping after this generation (Ctrl-C again to quit at once; committed generations are kept)...'): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const handler = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
    process.stderr.write(`\n${message}\n`);
  };
  process.on('SIGINT', handler);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', handler) };
}

/**
 * A progress bar on stderr (stdout stays clean for --json). When stderr is no terminal (a log file, a
 * headless box under nohup), the same fields come as one plain line every 30 s instead.
 */
export function progressBar(format: string, total: number): { update(n: number, payload?: object): void; stop(): void } {
  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: tty ? format : `[{time}] ${format.replace(/ ?[|[]?\{bar\}[|\]]? ?/, ' ')}`,
      stream: process.stderr,
      hideCursor: tty,
      etaBuffer: 20,
      clearOnComplete: false,
      noTTYOutput: !tty,
      notTTYSchedule: 30_000,
    },
    cliProgress.Presets.shades_classic,
  );
  const time = () => new Date().toISOString().slice(11, 19);
  // Started on the first update, so that the first line already has every field of the format.
  let started = false;
  return {
    update: (n, payload) => {
      if (started) return bar.update(n, { ...payload, time: time() });
      bar.start(total, n, { ...payload, time: time() });
      started = true;
    },
    stop: () => started && bar.stop(),
  };
}

export function table(rows: (string | number)[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** A share or an accuracy ("40.0% of the images"); confidences go through formatConfidence (src/shared/confidence.ts). */
export function pct(p: number, digits = 2): string {
  return `${(p * 100).toFixed(digits)}%`;
}

/** A one-line "working..." note on stderr while something without a count runs (terminals only). */
export function progressNote(text: string): { stop(): void } {
  if (process.stderr.isTTY !== true) return { stop: () => undefined };
  process.stderr.write(text);
  return { stop: () => process.stderr.write('\r\x1b[K') };
}
