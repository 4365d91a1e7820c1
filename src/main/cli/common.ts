import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { isFoolError, toErrorPayload } from '../../shared/errors';
import { resolveDbPath } from '../core/paths';
import { LIMITS, type LimitName } from '../../shared/limits';

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

/** An integer option in [min, max], written in digits (so "1e9", "0x10" and "" are refused too). */
export function parseIntOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\+?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
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

export function pct(p: number, digits = 2): string {
  return `${(p * 100).toFixed(digits)}%`;
}
