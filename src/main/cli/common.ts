import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import type { ApiEvent, ApiMethod, ApiParams, ApiResults, JobEvent } from '../../shared/api';
import { FoolError, fromErrorPayload, isFoolError, toErrorPayload } from '../../shared/errors';
import { LIMITS, type LimitName } from '../../shared/limits';
import { explainError, openLabApi, resolveDbPath, type ClassifierOptions, type LabApi } from '../core/api';

/** Options every command understands; declared once on the program (see fool.ts). */
export interface GlobalOptions {
  db?: string;
  json?: boolean;
}

/**
 * Commands that may start a lab where none is (they make things, or need only the shipped models);
 * every other one reads runs and needs an existing lab.
 */
const CREATES_LAB = new Set(['evolve', 'ascent', 'models add', 'models get', 'train lenet', 'serve', 'reproduce', 'retrain', 'runs import', 'sweep', 'models list', 'models show', 'models eval', 'classify', 'doctor']);

/**
 * The global options and the lab's path. A lab named explicitly (--db, FOOL_DB) that does not exist
 * is a typo for a command that reads runs (refused, nothing created) and a new lab for the others
 * (said on stderr). The default lab is created silently: a first `fool runs list` shows no runs.
 */
export function globals(cmd: Command): GlobalOptions & { dbPath: string } {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  const dbPath = resolveDbPath(o.db);
  const named = o.db !== undefined ? '--db' : process.env.FOOL_DB ? 'FOOL_DB' : null;
  if (named && !existsSync(dbPath)) {
    const name = [cmd.parent?.parent ? cmd.parent.name() : '', cmd.name()].filter(Boolean).join(' ');
    if (!CREATES_LAB.has(name)) {
      throw new FoolError('NOT_FOUND', `there is no lab at ${dbPath} (from ${named})`, `Check ${named} for a typo; a new lab is made by the first "fool evolve", "fool models add" or "fool train" that names it`);
    }
    process.stderr.write(`fool: starting a new lab at ${dbPath}\n`);
  }
  return { ...o, dbPath };
}

function dbPathOf(cmd: Command): string | undefined {
  try {
    return resolveDbPath((cmd.optsWithGlobals() as GlobalOptions).db);
  } catch {
    return undefined;
  }
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
    } catch (raw) {
      const e = explainError(raw, dbPathOf(cmd));
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
  follow(jobId: number, onEvent?: (e: ApiEvent) => void, stopMessage?: string | null, say?: (m: string) => void): Promise<JobEnd>;
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
    async follow(jobId, onEvent, stopMessage, say) {
      const mine = (e: ApiEvent) => {
        // Run events carry no job id; a command follows one job at a time.
        if (!('jobId' in e) || e.jobId === jobId) onEvent?.(e);
      };
      listeners.add(mine);
      const stop = stopMessage === null ? { dispose: () => undefined } : stopOnSigint(stopMessage, say);
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

/** An integer option in [min, max], written in digits (so "1e9", "0x10" and "" are refused too). */
export function parseIntOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\+?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${name} must be a whole number ${range}, got "${v}"`);
    }
    return n;
  };
}

/** An integer option in the range the API accepts too (src/shared/limits.ts). */
export function limitedIntOption(flag: string, limit: LimitName): (v: string) => number {
  return parseIntOption(flag, LIMITS[limit].min, LIMITS[limit].max);
}

/** A decimal option in [min, max] (`minExclusive`: above min). */
export function parseNumberOption(name: string, min: number, max: number, opts: { minExclusive?: boolean } = {}): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    const low = opts.minExclusive ? n > min : n >= min;
    if (v.trim() === '' || !Number.isFinite(n) || !low || n > max) {
      throw new InvalidArgumentError(`${name} must be a number ${opts.minExclusive ? 'above' : 'from'} ${min} ${opts.minExclusive ? 'and at most' : 'to'} ${max}, got "${v}"`);
    }
    return n;
  };
}

/**
 * Quits at once as the signal itself would (exit status 128 + its number), without tearing down
 * worker threads: process.exit() there would stop a worker inside onnxruntime's session.run, and
 * that aborts the process ("terminate called after throwing an instance of 'Napi::Error'", status
 * 134). The signal's default action ends the process before any teardown; committed work is in
 * the database already (every generation is one transaction).
 */
export function quitBySignal(sig: NodeJS.Signals): never {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
  // The signal arrives asynchronously; nothing else may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/**
 * Ctrl-C once: abort the signal, so the work stops at its next safe point (`message` says which);
 * twice: quit now. `say` prints the message (a progress bar passes its `interrupt`, so the message
 * is not drawn over).
 */
export function stopOnSigint(
  message = 'Stopping after this generation (Ctrl-C again to quit at once; committed generations are kept)...',
  say: (m: string) => void = (m) => process.stderr.write(`\n${m}\n`),
): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const handler = () => {
    if (ac.signal.aborted) quitBySignal('SIGINT');
    ac.abort();
    say(message);
  };
  process.on('SIGINT', handler);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', handler) };
}

export interface ProgressBar {
  update(n: number, payload?: object): void;
  stop(): void;
  /** Ends the bar's line, prints `message` under it, and draws no more (Ctrl-C). */
  interrupt(message: string): void;
}

/** "1m 05s", or "-" while there is nothing to estimate from (never "NaN"). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A progress bar on stderr (stdout stays clean for --json). When stderr is no terminal (a log file, a
 * headless box under nohup), the same fields come as one plain line every 30 s instead. `{eta_text}`
 * is estimated from the updates seen (not from the start value, so a resumed run's ETA is right; never
 * "NaN"). The line is never cut by the terminal: a narrow one gets `compact` (fewer fields), and the
 * bar takes the width that is left.
 */
export function progressBar(format: string, total: number, compact?: string): ProgressBar {
  const tty = process.stderr.isTTY === true;
  // The line without the bar, with fields at typical widths: what is left is the bar's.
  const width = (f: string) => f.replace(/\{bar\}/, '').replace(/\{[a-z_]+\}/g, '123456').length;
  const columns = process.stderr.columns || 80;
  if (tty && compact && width(format) + 10 > columns) format = compact;
  const barsize = Math.max(5, Math.min(40, columns - width(format) - 1));
  const bar = new cliProgress.SingleBar(
    {
      format: tty ? format : `[{time}] ${format.replace(/ ?[|[]?\{bar\}[|\]]? ?/, ' ')}`,
      stream: process.stderr,
      hideCursor: tty,
      barsize,
      clearOnComplete: false,
      noTTYOutput: !tty,
      notTTYSchedule: 30_000,
    },
    cliProgress.Presets.shades_classic,
  );
  const time = () => new Date().toISOString().slice(11, 19);
  // Started on the first update, so that the first line already has every field of the format.
  let started = false;
  let done = false;
  let first: { n: number; t: number } | undefined;
  const eta = (n: number) => {
    const now = performance.now();
    if (!first || n <= first.n) {
      first ??= { n, t: now };
      return '-';
    }
    return formatEta(((total - n) * (now - first.t)) / (n - first.n) / 1000);
  };
  return {
    update: (n, payload) => {
      if (done) return;
      const p = { ...payload, time: time(), eta_text: eta(n) };
      if (started) return bar.update(n, p);
      bar.start(total, n, p);
      started = true;
    },
    stop: () => {
      if (started && !done) bar.stop();
      done = true;
    },
    interrupt: (message) => {
      if (started && !done) bar.stop();
      done = true;
      process.stderr.write(`${message}\n`);
    },
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
