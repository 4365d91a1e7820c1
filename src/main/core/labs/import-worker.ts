import { parentPort, workerData } from 'node:worker_threads';
import { toErrorPayload } from '../../../shared/errors';
import { Lab } from '../lab';
import { importLab } from './import';
import type { ImportRequest, ImportMessage } from './import-thread';

/**
 * A worker thread that runs one import (labs/import.ts) on its own connection to the lab, so that
 * the process that asked (`fool serve`, the desktop app) keeps answering while the import's one
 * transaction runs. SQLite's WAL lets the host go on reading meanwhile; its writes wait on the busy
 * timeout, as they would for an import from another process.
 */
const req = workerData as ImportRequest;
const post = (m: ImportMessage) => parentPort!.postMessage(m);

void (async () => {
  let lab: Lab | undefined;
  try {
    lab = new Lab(req.dbPath);
    const result = await importLab(lab, req.file, {
      runs: req.runs,
      onChecked: () => post({ type: 'checked' }),
      onProgress: (done, total, message) => post({ type: 'progress', done, total, message }),
    });
    post({ type: 'result', result });
  } catch (e) {
    post({ type: 'error', error: toErrorPayload(e) });
  } finally {
    lab?.close();
  }
})();
