import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FOOL, type CliResult } from './helpers';

/** A `fool` process the test can watch and kill: its output so far, and its exit. */
export interface Running {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exit: Promise<CliResult>;
}

export function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [FOOL, ...args], { env: { ...process.env, FOOL_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exit = new Promise<CliResult>((done) => child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 + 9 : 1), ...out })));
  return { child, out, exit };
}

/** Kills `r` with SIGKILL after `ms`, and waits until it is gone (reaped: its pid is free). */
export async function killAfter(r: Running, ms: number): Promise<CliResult> {
  const t = setTimeout(() => r.child.kill('SIGKILL'), ms);
  const res = await r.exit;
  clearTimeout(t);
  return res;
}

/** A fingerprint of a file, or of every file under a folder (names, sizes, bytes): "the lab's bytes are unchanged". */
export function fingerprint(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      h.update(`${p}\0${st.isDirectory() ? 'dir' : st.size}\0`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  if (existsSync(dir) && statSync(dir).isFile()) h.update(readFileSync(dir));
  else if (existsSync(dir)) walk(dir);
  return h.digest('hex');
}

/** A seeded generator of kill times (ms), so a failing draw can be replayed. */
export function killTimes(seed: number, n: number, lo: number, hi: number): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out.push(Math.round(lo + ((a >>> 8) / 2 ** 24) * (hi - lo)));
  }
  return out;
}
