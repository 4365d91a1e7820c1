import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseIntOption, run, withLab } from '../common';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("a run's champions to a folder: PNGs, a contact sheet, index.html and manifest.json")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .requiredOption('--out <dir>', 'folder to write (created if needed)')
    .option('--classes <list>', 'only these classes, e.g. 0,3,7')
    .action(
      run(async (cmd, runId) => {
        const o = cmd.opts() as { out: string; classes?: string };
        const classes = o.classes?.split(',').map((s) => Number(s.trim()));
        return withLab(cmd, async (lab) => {
          const r = await lab.call('export.run', { runId: runId as number, outDir: resolve(o.out), classes });
          return { json: r, text: `Exported ${r.champions} champions of run ${runId as number} to ${r.dir} (${r.files.length} files; open index.html)` };
        });
      }),
    );
}
