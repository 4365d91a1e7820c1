import { Command, Option } from 'commander';
import type { EngineOptions } from '../../../shared/engine';
import type { ClassifierOptions } from '../../core/api';
import { limitedIntOption } from '../common';

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

/** The engine's named options (paper default -> released code, or the paper's open choices). */
export function withEngineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--color-space <c>', 'how 3 genes/outputs are read (paper hsv; released code hls)').choices(['hsv', 'hls']))
    .addOption(new Option('--coordinates <c>', 'CPPN inputs x, y (released code: pixel)').choices(['pixel', 'normalized']))
    .addOption(new Option('--rate-schedule <s>', 'direct mutation rate (paper: halve every 1000)').choices(['halve-every-1000', 'fixed']))
    .addOption(new Option('--crossover <c>', 'direct encoding crossover (paper: none; released code: sbx)').choices(['none', 'sbx']));
}

export function engineOptions(cmd: Command): EngineOptions {
  const o = cmd.opts() as EngineOptions;
  return { colorSpace: o.colorSpace, coordinates: o.coordinates, rateSchedule: o.rateSchedule, crossover: o.crossover };
}
