import { Command, Option } from 'commander';
import { ENGINE_OPTION_PARAMS, type EngineOptions } from '../../../shared/engine';
import type { ClassifierOptions } from '../../core/api';
import { limitedIntOption } from '../common';
import { paramOptions, paramsFrom } from './params';

/** Options of every command that runs a classifier. */
export function withClassifierOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--provider <p>', 'execution provider').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--workers <n>', 'worker threads, each with its own session (default: one per core)', limitedIntOption('--workers', 'workers'))
    .option('--threads <n>', 'onnxruntime threads per worker (default: cores / workers)', limitedIntOption('--threads', 'threads'))
    .option('--max-batch <n>', 'largest batch per session run', limitedIntOption('--max-batch', 'maxBatch'));
}

export function classifierOptions(cmd: Command): ClassifierOptions {
  const o = cmd.opts() as { provider?: 'auto' | 'cpu' | 'cuda'; workers?: number; threads?: number; maxBatch?: number };
  return { provider: o.provider, workers: o.workers, threadsPerWorker: o.threads, maxBatch: o.maxBatch };
}

/** The engine's named options (paper default -> released code, or the paper's open choices), described once in src/shared/engine.ts. */
export function withEngineOptions(cmd: Command): Command {
  for (const o of ENGINE_OPTION_PARAMS.flatMap(paramOptions)) cmd.addOption(o);
  return cmd;
}

export function engineOptions(cmd: Command): EngineOptions {
  return paramsFrom(ENGINE_OPTION_PARAMS, cmd.opts(), []) as EngineOptions;
}
