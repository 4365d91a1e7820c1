import { Command, Option } from 'commander';
import type { ClassifierOptions } from '../../core/models/classifier';
import { parseIntOption } from '../common';

/** Options of every command that runs a classifier. */
export function withClassifierOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--provider <p>', 'execution provider').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--workers <n>', 'worker threads, each with its own session (default: one per core)', parseIntOption('--workers'))
    .option('--threads <n>', 'onnxruntime threads per worker (default: cores / workers)', parseIntOption('--threads'))
    .option('--max-batch <n>', 'largest batch per session run', parseIntOption('--max-batch'));
}

export function classifierOptions(cmd: Command): ClassifierOptions {
  const o = cmd.opts() as { provider?: 'auto' | 'cpu' | 'cuda'; workers?: number; threads?: number; maxBatch?: number };
  return { provider: o.provider, workers: o.workers, threadsPerWorker: o.threads, maxBatch: o.maxBatch };
}
