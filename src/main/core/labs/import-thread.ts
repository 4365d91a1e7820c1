import { Worker } from 'node:worker_threads';
import type { ImportResult } from '../../../shared/api';
import { FoolError, fromErrorPayload, type ErrorPayload } from '../../../shared/errors';
import { builtEntry } from '../paths';
import type { ImportOptions } from './import';

/** What the import worker (import-worker.ts) is given, and what it says back. */
export interface ImportRequest {
  dbPath: string;
  file: string;
  runs?: number[];
}

export type ImportMessage =
  | { type: 'checked' }
  | { type: 'progress'; done: number; total: number; message: string }
  | { type: 'result'; result: ImportResult }
  | { type: 'error'; error: ErrorPayload };

/**
 * `importLab` on a worker thread, for a host that must keep serving while a large lab is copied
 * (one transaction, seconds to minutes): the same checks, progress and result, the same errors.
 */
export function importLabOffThread(dbPath: string, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(builtEntry('import-worker'), { workerData: { dbPath, file, runs: opts.runs } satisfies ImportRequest });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    worker.on('message', (m: ImportMessage) => {
      if (m.type === 'checked') void Promise.resolve(opts.onChecked?.()).catch(() => undefined);
      else if (m.type === 'progress') opts.onProgress?.(m.done, m.total, m.message);
      else if (m.type === 'result') settle(() => resolve(m.result));
      else settle(() => reject(fromErrorPayload(m.error)));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new FoolError('INTERNAL', `the import worker stopped (exit ${code}) before it finished`, 'Run the import again: nothing was half-copied (one transaction)'))));
  });
}
