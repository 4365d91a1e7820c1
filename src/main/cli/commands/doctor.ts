import { Command } from 'commander';
import { cpus, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { chooseProvider, cpuCount, cudaInstalled, defaultParallelism, detectGpu, onnxruntimeVersion } from '../../core/models/provider';
import { globals, run } from '../common';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('what this machine offers: runtime, execution providers, threads, GPU')
    .action(
      run(async (cmd) => {
        const choice = chooseProvider('auto');
        const par = defaultParallelism(choice.provider);
        const gpu = detectGpu();
        const report = {
          node: process.version,
          onnxruntime: onnxruntimeVersion(),
          providers: ort.listSupportedBackends().map((b) => ({ name: b.name, installed: b.bundled })),
          cudaInstalled: cudaInstalled(),
          gpu,
          provider: choice.provider,
          reason: choice.reason,
          cpu: { model: cpus()[0]?.model ?? 'unknown', cores: cpuCount(), memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) },
          workers: par.workers,
          threadsPerWorker: par.threadsPerWorker,
          db: globals(cmd).dbPath,
        };
        const text = [
          `node          ${report.node}`,
          `onnxruntime   ${report.onnxruntime} (providers: ${report.providers.map((p) => `${p.name}${p.installed ? '' : ' (not installed)'}`).join(', ')})`,
          `GPU           ${gpu.present ? gpu.description : `none: ${gpu.description}`}`,
          `provider      ${report.provider.toUpperCase()}: ${report.reason}`,
          `threads       ${report.workers} worker(s) x ${report.threadsPerWorker} onnxruntime thread(s) on ${report.cpu.cores} cores (${report.cpu.model})`,
          `database      ${report.db}`,
        ].join('\n');
        return { json: report, text };
      }),
    );
}
