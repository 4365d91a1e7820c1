import { resolve } from 'node:path';
import { Command } from 'commander';
import type { ExportResult } from '../../../shared/api';
import { jobResult, parseIntOption, progressBar, run, withLab } from '../common';

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
          const { jobId } = await lab.call('export.start', { runId: runId as number, outDir: resolve(o.out), classes });
          const bar: { b?: ReturnType<typeof progressBar> } = {};
          let r: ExportResult;
          try {
            r = jobResult<ExportResult>(
              await lab.follow(
                jobId,
                (e) => {
                  if (e.type !== 'job.progress') return;
                  bar.b ??= progressBar('exporting |{bar}| {value}/{total} files', e.total);
                  bar.b.update(e.done);
                },
                'Stopping after the current image (Ctrl-C again to quit at once; the folder keeps the images written, with an index for them)...',
              ),
            );
          } finally {
            bar.b?.stop();
          }
          const { done, ...json } = r;
          const text = done
            ? `Exported ${r.champions} champions of run ${runId as number} to ${r.dir} (${r.files.length} files; open index.html)`
            : `Stopped: exported ${r.champions} champions of run ${runId as number} to ${r.dir} (${r.files.length} files; open index.html)`;
          // --json as before; `done: false` only when stopped.
          return { json: done ? json : { ...json, done }, text };
        });
      }),
    );
}
