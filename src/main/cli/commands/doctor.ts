import { Command } from 'commander';
import { run, withLab } from '../common';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('what this machine offers: runtime, execution providers, threads, GPU')
    .action(
      run(async (cmd) =>
        withLab(cmd, async (lab) => {
          const report = await lab.call('doctor.info', {});
          const { gpu } = report;
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
      ),
    );
}
