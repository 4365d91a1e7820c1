import { spawn } from 'node:child_process';

/** What a step prints: progress lines for the person waiting, one per event. */
export type Say = (line: string) => void;

export interface ChildResult {
  code: number;
  /** The last lines the child printed (stdout and stderr together), to explain a failure. */
  tail: string;
}

/**
 * Runs a helper program (Electron's installer, prebuild-install, node-gyp) and keeps the end of
 * its output. Its output is not shown as it comes (installers print stack traces and compiler
 * noise); instead a line every `heartbeatMs` says the step is still going, and a failure is
 * explained from the tail.
 */
export function runChild(
  command: string,
  args: string[],
  opts: { cwd?: string; env: NodeJS.ProcessEnv; say: Say; what: string; heartbeatMs?: number },
): Promise<ChildResult> {
  return new Promise((done) => {
    const started = Date.now();
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-8000);
    };
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const beat = setInterval(() => opts.say(`  ... still ${opts.what} (${Math.round((Date.now() - started) / 1000)} s)`), opts.heartbeatMs ?? 10_000);
    const finish = (code: number) => {
      clearInterval(beat);
      done({ code, tail });
    };
    child.on('error', (e) => {
      tail += `\n${e.message}`;
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/** Network failures: the machine is offline, the host is unreachable, or the connection dropped. */
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|getaddrinfo/i;
const DROPPED = /ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|socket hang up|premature close|aborted|TimeoutError|other side closed|unexpected end of file/i;

export type Failure = 'offline' | 'dropped' | 'checksum' | 'not-found' | 'no-display' | 'other';

/** Classifies a helper's failure from what it printed, so that the user is told the real reason. */
export function classifyFailure(tail: string): Failure {
  if (/checksum/i.test(tail) && /match/i.test(tail)) return 'checksum';
  if (OFFLINE.test(tail)) return 'offline';
  if (DROPPED.test(tail)) return 'dropped';
  if (/\b404\b|No prebuilt binaries found|HTTPError: Response code 404|Not Found/i.test(tail)) return 'not-found';
  return 'other';
}

/** The most telling line of a helper's output: the first error line, else its last line. */
export function reasonFrom(tail: string): string {
  const lines = tail
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^at\s/.test(l));
  const error = lines.find((l) => /error|did not match|ENOTFOUND|ECONNREFUSED|ECONNRESET|404|premature|not found/i.test(l));
  return (error ?? lines.at(-1) ?? 'no output').replace(/^(prebuild-install\s+)?(warn|ERR!|error)\s+/i, '').slice(0, 300);
}
