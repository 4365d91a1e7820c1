import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LabApi } from '../src/main/core/api';
import type { ApiMethod, ApiParams, ApiResults } from '../src/shared/api';

/** ../shared beside the checkout: real models and images for tests; absent on a user's clone. */
export const SHARED = resolve(__dirname, '../../shared');
export const HAS_SHARED = existsSync(join(SHARED, 'models'));
export const SKIP_SHARED_REASON = `needs the real models in ${SHARED} (absent on a fresh clone)`;
if (!HAS_SHARED) console.warn(`[skip] tests ${SKIP_SHARED_REASON}`);

export const MODELS = {
  lenet: join(SHARED, 'models/lenet-caffe/lenet-caffe.onnx'),
  squeezenet: join(SHARED, 'models/squeezenet1.0/squeezenet1.0.onnx'),
  synsets: join(SHARED, 'models/squeezenet1.0/synset_words.txt'),
  mobilenet: join(SHARED, 'models/mobilenet-v2/mobilenet-v2.onnx'),
  mobilenetLabels: join(SHARED, 'models/mobilenet-v2/imagenet_labels.txt'),
};
export const IMAGES = join(SHARED, 'images/natural');

/** Folders made by tempDir in this test file; test/setup.ts removes them after the file's tests. */
export const TEMP_DIRS: string[] = ((globalThis as { __foolTempDirs?: string[] }).__foolTempDirs ??= []);

/** A fresh folder under the OS temp dir, removed after the file's tests (kept if FOOL_KEEP_TEST_DIRS=1). */
export function tempDir(prefix = 'fool-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  TEMP_DIRS.push(dir);
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `fool`; FOOL_BIN runs the same tests against another build (e.g. an older commit's). */
export const FOOL = process.env.FOOL_BIN ? resolve(process.env.FOOL_BIN) : resolve(__dirname, '../bin/fool.js');

/** Runs the real, built `fool` command. */
export function fool(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [FOOL, ...args],
      { env: { ...process.env, FOOL_DEBUG: '', ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export async function foolJson<T = Record<string, unknown>>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await fool([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`fool ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Seeded pseudo-random numbers for test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Relative L2 error of a gradient g against a reference r: ||g - r|| / ||r||. */
export function relErr(g: ArrayLike<number>, r: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    num += (g[i] - r[i]) ** 2;
    den += r[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** A call through the lab's API as a host makes it; its result, or an Error naming the method and the error. */
export async function apiResult<M extends ApiMethod>(api: LabApi, method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
  const r = await api.call(method, params);
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.result as ApiResults[M];
}
