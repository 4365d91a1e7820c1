import { FoolError } from '../../../shared/errors';
import { writeRunReport } from '../export/run-report';
import { exportLab } from '../labs/export';
import { importLabOffThread } from '../labs/import-thread';
import { TransferStore } from '../store/transfer';
import type { ApiContext, Handlers } from './context';

/** Runs beyond the app's first methods: the full report of a run, deleting one, moving runs between labs. */
export function runHandlers(ctx: ApiContext): Handlers<'runs.report' | 'runs.writeReport' | 'runs.delete' | 'runs.import' | 'runs.exportLab'> {
  const { lab } = ctx;
  return {
    'runs.report': (p) => {
      const r = lab.runs.get(p.runId);
      const imp = new TransferStore(lab.db).importOf('run', r.id);
      const origin = imp && { lab: imp.lab, runId: imp.id, sourcePath: imp.sourcePath, sourceHost: imp.sourceHost, importedAt: imp.importedAt };
      return { runId: r.id, kind: r.kind, model: r.model, encoding: r.encoding, seed: r.seed, status: r.status, settings: r.settings, stats: lab.runs.stats(r.id), lastGeneration: r.lastGeneration, evaluations: r.evaluations, seconds: r.seconds, origin };
    },
    'runs.writeReport': (p) => writeRunReport(lab, p.runId, p.outDir),
    'runs.delete': (p) => {
      lab.runs.get(p.runId);
      if (ctx.isLive(p.runId)) throw new FoolError('BAD_INPUT', `run ${p.runId} is running`, 'Stop it first (runs.stop), then delete it');
      lab.runs.delete(p.runId);
      return { runId: p.runId };
    },
    'runs.import': async (p) => {
      const job = ctx.jobs.start(
        'runs.import',
        (jc) =>
          // On a worker thread: the copy is one transaction that may take minutes, and this process
          // goes on serving the app meanwhile.
          importLabOffThread(lab.dbPath, p.file, {
            runs: p.runs,
            onChecked: () => jc.ids({}),
            onProgress: (done, total, message) => jc.progress({ done, total, message }),
          }),
        { waitForIds: true },
      );
      // A missing file, a newer schema or an unknown run id is the caller's error, not a failed job.
      await job.started;
      return { jobId: job.jobId };
    },
    'runs.exportLab': (p) => exportLab(lab, p.runId, p.out),
  };
}
