import { exportRun, planExport, writeExport } from '../export/gallery';
import type { ApiContext, Handlers } from './context';

/** A run's gallery exported to a folder: in one call, or as a job with progress per file and Stop. */
export function exportHandlers(ctx: ApiContext): Handlers<'export.run' | 'export.start'> {
  const { lab } = ctx;
  return {
    'export.run': (e) => exportRun(lab, e.runId, e.outDir, { classes: e.classes }),
    'export.start': (e) => {
      // Checked (and the folder prepared) before the job starts: bad input is the caller's error.
      const plan = planExport(lab, e.runId, e.outDir, { classes: e.classes });
      const job = ctx.jobs.start('export', (jc) =>
        writeExport(lab, plan, { signal: jc.signal, onProgress: (done, total, file) => jc.progress({ done, total, message: file }) }),
      );
      return { jobId: job.jobId };
    },
  };
}
