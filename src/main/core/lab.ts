import { hostname } from 'node:os';
import type { Prediction } from '../../shared/api';
import type { ModelInfo } from '../../shared/manifest';
import { FoolError } from '../../shared/errors';
import { Classifier, type ClassifierOptions } from './models/classifier';
import { ModelRegistry } from './models/registry';
import { stack } from './models/image';
import { loadImageForModel } from './models/resize';
import { argmax, topPredictions } from './models/top-k';
import { loadMnist } from './data/mnist';
import { openDb, type Db } from './store/db';
import { ModelStore } from './store/models';
import { RunStore } from './store/runs';
import { TransferStore } from './store/transfer';

/**
 * One lab: a database and the models registered in it. The façade every host (CLI, Electron,
 * web server) drives; it never imports electron.
 */
export class Lab {
  readonly db: Db;
  readonly dbPath: string;
  readonly models: ModelRegistry;
  readonly runs: RunStore;

  constructor(dbPath: string) {
    this.dbPath = dbPath;
    this.db = openDb(dbPath);
    this.models = new ModelRegistry(new ModelStore(this.db), dbPath);
    this.runs = new RunStore(this.db);
    // Provenance for the runs other labs import from this one (store/transfer.ts).
    // A lab on a read-only medium is opened read-only (store/db.ts): reading it must not write.
    if (!this.db.readonly) new TransferStore(this.db).rememberHost(hostname());
  }

  close(): void {
    this.db.close();
  }

  openClassifier(name: string, opts?: ClassifierOptions): Promise<Classifier> {
    return Classifier.open(this.models.get(name), opts);
  }

  async classifyFiles(name: string, files: string[], k: number, opts?: ClassifierOptions): Promise<{ file: string; top: Prediction[] }[]> {
    if (files.length === 0) throw new FoolError('BAD_INPUT', 'no image files given', 'Pass one or more PNG or JPEG files');
    const info = this.models.get(name);
    // Decode everything before starting workers: a bad file fails fast.
    const images = await Promise.all(files.map((f) => loadImageForModel(f, info.manifest.input)));
    // One image needs one session, not a pool.
    const c = await Classifier.open(info, { ...opts, workers: opts?.workers ?? (files.length < 2 ? 1 : undefined) });
    try {
      const probs = await c.classify(stack(images));
      return files.map((file, i) => ({ file, top: topPredictions(probs.subarray(i * c.classes, (i + 1) * c.classes), info.labels, k) }));
    } finally {
      await c.close();
    }
  }

  /** Accuracy on the 10,000 MNIST test images. */
  async evalMnist(name: string, opts?: ClassifierOptions, onProgress?: (done: number, total: number) => void): Promise<{ n: number; accuracy: number; seconds: number }> {
    const info: ModelInfo = this.models.get(name);
    const m = info.manifest;
    if (m.classes < 10 || m.input.height !== 28 || m.input.width !== 28) {
      throw new FoolError('MISMATCH', `model "${name}" takes ${m.input.width}x${m.input.height} images with ${m.classes} classes; mnist-test needs 28x28 and the 10 digits`, 'Evaluate an MNIST model');
    }
    const test = loadMnist('test');
    const c = await Classifier.open(info, opts);
    try {
      const t0 = performance.now();
      let correct = 0;
      const chunk = 1000;
      for (let s = 0; s < test.n; s += chunk) {
        const n = Math.min(chunk, test.n - s);
        const probs = await c.classify({ n, height: 28, width: 28, channels: 1, data: test.images.subarray(s * 784, (s + n) * 784) });
        for (let i = 0; i < n; i++) {
          if (argmax(probs.subarray(i * c.classes, (i + 1) * c.classes)) === test.labels[s + i]) correct++;
        }
        onProgress?.(s + n, test.n);
      }
      return { n: test.n, accuracy: correct / test.n, seconds: (performance.now() - t0) / 1000 };
    } finally {
      await c.close();
    }
  }
}
