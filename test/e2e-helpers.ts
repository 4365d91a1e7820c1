import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Shared by the end-to-end test and the gallery benchmark: Debian's Chromium and a real `fool serve`. */

export const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/** The Chromium binary, or null (the callers skip with this reason). */
export function findChromium(): string | null {
  return CHROMIUM.find((p) => existsSync(p)) ?? null;
}
export const NO_CHROMIUM = `no Chromium binary at ${CHROMIUM.join(' or ')} (apt-get install -y chromium)`;

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
  });
}

/** `fool ARGS` against a database, synchronously; throws with stderr on failure. */
export function fool(db: string, args: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/fool.js'), '--db', db, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fool ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface Served {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `fool serve --port 0 --json` (env: added to this process's) and reads the URL it prints. */
export function serve(db: string, env: Record<string, string> = {}): Promise<Served> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/fool.js'), '--db', db, '--json', 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const stop = () =>
    new Promise<void>((done) => {
      if (proc.exitCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill('SIGTERM');
      // A second signal quits at once if the first one waits on a generation.
      setTimeout(() => proc.exitCode === null && proc.kill('SIGKILL'), 10_000).unref();
    });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`fool serve printed no URL in 60 s; stderr: ${err}`)), 60_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      try {
        const url = (JSON.parse(line) as { open?: string; url: string }).open ?? '';
        done({ url: url || (JSON.parse(line) as { url: string }).url, proc, stop });
      } catch (e) {
        fail(e as Error);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`fool serve exited (${code}): ${err}`));
    });
  });
}

/** The model the end-to-end run fools: the shipped lenet-mnist, else Caffe's LeNet registered under that name. */
export function ensureMnistModel(db: string): void {
  if (existsSync(join(ROOT, 'resources/models/lenet-mnist.json'))) return;
  const onnx = join(ROOT, '../shared/models/lenet-caffe/lenet-caffe.onnx');
  if (!existsSync(onnx)) throw new Error(`neither resources/models/lenet-mnist.json nor ${onnx} exists`);
  fool(db, ['models', 'add', onnx, '--name', 'lenet-mnist', '--preset', 'mnist']);
}
