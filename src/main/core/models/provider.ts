import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { FoolError } from '../../../shared/errors';

export type ProviderRequest = 'auto' | 'cpu' | 'cuda';

export interface ProviderChoice {
  provider: 'cpu' | 'cuda';
  reason: string;
  /** 'auto' chose the CPU although a GPU or the CUDA libraries are there: worth telling the user. */
  fellBack?: boolean;
}

export interface GpuInfo {
  present: boolean;
  description: string;
}

/** Is an NVIDIA GPU with a driver present? (The CUDA provider is useless without one.) */
export function detectGpu(): GpuInfo {
  if (!existsSync('/proc/driver/nvidia/version') && !existsSync('/dev/nvidia0')) {
    return { present: false, description: 'no NVIDIA driver found (/proc/driver/nvidia)' };
  }
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 5000,
    }).trim();
    return { present: out.length > 0, description: out || 'NVIDIA driver present, no GPU listed' };
  } catch {
    return { present: true, description: 'NVIDIA driver present (nvidia-smi unavailable)' };
  }
}

/** Whether this onnxruntime-node install carries the CUDA provider's libraries. */
export function cudaInstalled(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
}

let cached: ProviderChoice | undefined;

/**
 * CUDA where onnxruntime-node has it and a GPU is present, else CPU, with the reason either way.
 * FOOL_PROVIDER=cpu|cuda overrides 'auto'.
 */
export function chooseProvider(request: ProviderRequest = 'auto'): ProviderChoice {
  const env = process.env.FOOL_PROVIDER as ProviderRequest | undefined;
  const want = request === 'auto' && (env === 'cpu' || env === 'cuda') ? env : request;
  if (want === 'cpu') return { provider: 'cpu', reason: 'CPU requested' };
  if (want === 'auto' && cached) return cached;
  const installed = cudaInstalled();
  const gpu = detectGpu();
  let choice: ProviderChoice;
  if (installed && gpu.present) choice = { provider: 'cuda', reason: `CUDA provider installed and GPU found (${gpu.description})` };
  else if (!installed)
    choice = {
      provider: 'cpu',
      reason:
        'onnxruntime-node was installed without its CUDA libraries (README "GPU" says how to add them)' +
        (gpu.present ? `; a GPU is present: ${gpu.description}` : '; no GPU found either'),
    };
  else choice = { provider: 'cpu', reason: `CUDA provider installed but ${gpu.description}` };
  if (want === 'cuda' && choice.provider !== 'cuda') {
    throw new FoolError(
      'UNSUPPORTED',
      `CUDA was asked for (${request === 'cuda' ? '--provider cuda' : 'FOOL_PROVIDER=cuda'}) but cannot be used here: ${choice.reason}`,
      'Use --provider auto (it falls back to the CPU and says so) or --provider cpu; "fool doctor" shows what was found',
    );
  }
  if (choice.provider === 'cpu' && (installed || gpu.present)) {
    choice.fellBack = true;
    // Said once per process, on stderr (the command line's, the server's log): the user asked for
    // the best provider and gets the CPU although a GPU or CUDA is there.
    if (!cached) process.stderr.write(`fool: running on the CPU: ${choice.reason}\n`);
  }
  if (want === 'auto') cached = choice;
  return choice;
}

/**
 * Refuses, before anything is written, a request for CUDA (the flag or FOOL_PROVIDER) where CUDA
 * cannot run: chooseProvider's error. Jobs open their classifier only after they have stored their
 * run or experiment, so a refusal found there left an empty run behind. Says nothing otherwise.
 */
export function assertProviderUsable(request: ProviderRequest = 'auto'): void {
  if (request === 'cuda' || (request === 'auto' && process.env.FOOL_PROVIDER === 'cuda')) chooseProvider(request);
}

export function cpuCount(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/**
 * Worker threads x intra-op threads. Independent sessions on separate cores beat one session with
 * two threads for the small convolutions of these models (measured: docs/benchmarks.md), so the
 * default is one single-threaded session per core. On CUDA one session feeds the GPU.
 */
export function defaultParallelism(provider: 'cpu' | 'cuda'): { workers: number; threadsPerWorker: number } {
  if (provider === 'cuda') return { workers: 1, threadsPerWorker: 1 };
  const cores = cpuCount();
  const workers = Math.max(1, Math.min(cores, 8));
  return { workers, threadsPerWorker: Math.max(1, Math.floor(cores / workers)) };
}

export function onnxruntimeVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve('onnxruntime-node/package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** onnxruntime's own log (warnings about unused initializers, provider fallbacks) only with --verbose. */
export function verbose(): boolean {
  return process.env.FOOL_VERBOSE === '1';
}

/** Session options; `level` from chooseGraphLevel (models/graph-level.ts) where the model is known. */
export function sessionOptions(provider: 'cpu' | 'cuda', threads: number, level: 'all' | 'extended' = 'all'): ort.InferenceSession.SessionOptions {
  ort.env.logLevel = verbose() ? 'warning' : 'error';
  return {
    logSeverityLevel: verbose() ? 1 : 3,
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: provider === 'cuda' ? 'all' : level,
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  };
}
