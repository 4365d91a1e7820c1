import { Worker } from 'node:worker_threads';
import { FoolError, type ErrorCode } from '../../../shared/errors';
import { builtEntry } from '../paths';
import type { Dataset } from './data';
import { shareOf, stateCount } from './optimiser';
import { CTL, flatMemory, flatViews, type FromTrainWorker, type SharedTraining, type ToTrainWorker, type TrainWorkerInit } from './shared';
import type { TrainSettings } from './settings';

function sharedCopy(data: Uint8Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(Math.max(1, data.length));
  new Uint8Array(sab).set(data);
  return sab;
}

interface Pending {
  left: number;
  results: FromTrainWorker[];
  resolve: (r: FromTrainWorker[]) => void;
  reject: (e: Error) => void;
}

/**
 * The training workers, seen from the thread that starts them (shared.ts has the protocol). The
 * weights and optimiser state live in shared memory: `weights` and `state` are views of it, which
 * the caller fills before the first epoch and reads for checkpoints between epochs.
 */
export class TrainWorkers {
  readonly weights: Float32Array;
  readonly state: Float32Array[];
  private readonly ctl: Int32Array;
  private pending: Pending | undefined;
  private onProgress: ((batch: number, loss: number) => void) | undefined;
  private failure: Error | undefined;
  private closed = false;
  private exited = new Set<number>();

  private constructor(
    private readonly workers: Worker[],
    shared: SharedTraining,
    total: number,
    count: number,
  ) {
    this.ctl = new Int32Array(shared.ctl);
    ({ weights: this.weights, state: this.state } = flatViews(shared.flat, total, count, workers.length));
  }

  static async start(settings: TrainSettings, train: Dataset, test: Dataset, total: number): Promise<TrainWorkers> {
    const K = settings.workers;
    const states = stateCount(settings);
    const shared: SharedTraining = {
      ctl: new SharedArrayBuffer(CTL.size * 4),
      losses: new SharedArrayBuffer(K * 8),
      flat: flatMemory(total, states, K),
      trainImages: sharedCopy(train.images),
      trainLabels: sharedCopy(train.labels),
      testImages: sharedCopy(test.images),
      testLabels: sharedCopy(test.labels),
    };
    const entry = builtEntry('train-worker');
    const workers = Array.from({ length: K }, (_, index) => {
      const data: TrainWorkerInit = { index, settings, total, trainCount: train.n, testCount: test.n, shared };
      return new Worker(entry, { workerData: data });
    });
    const pool = new TrainWorkers(workers, shared, total, states);
    pool.listen();
    await pool.all(K);
    return pool;
  }

  private listen(): void {
    this.workers.forEach((w, k) => {
      w.on('message', (m: FromTrainWorker) => {
        if (m.type === 'error') this.fail(new FoolError(m.code as ErrorCode, `training worker ${k + 1}: ${m.message}`));
        else if (m.type === 'progress') this.onProgress?.(m.batch, m.loss);
        else if (this.pending) {
          this.pending.results[k] = m;
          if (--this.pending.left === 0) {
            const p = this.pending;
            this.pending = undefined;
            p.resolve(p.results);
          }
        }
      });
      w.on('error', (e) => this.fail(new FoolError('INTERNAL', `training worker ${k + 1} failed: ${e.message}`)));
      w.on('exit', (code) => {
        this.exited.add(k);
        if (!this.closed && code !== 0) this.fail(new FoolError('INTERNAL', `training worker ${k + 1} exited with code ${code}`));
      });
    });
  }

  /** Waits for one answer from each of `count` workers (at the start: the 'ready' each sends when loaded). */
  private all(count: number): Promise<FromTrainWorker[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { left: count, results: [], resolve, reject };
    });
  }

  private send(m: ToTrainWorker | ((k: number) => ToTrainWorker)): Promise<FromTrainWorker[]> {
    const answers = this.all(this.workers.length);
    this.workers.forEach((w, k) => w.postMessage(typeof m === 'function' ? m(k) : m));
    return answers;
  }

  /** A worker failed: the others leave their barrier, the call in progress fails with its error. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    Atomics.store(this.ctl, CTL.abort, 1);
    Atomics.notify(this.ctl, CTL.generation);
    this.pending?.reject(e);
    this.pending = undefined;
  }

  /**
   * Runs `batches` mini-batches of epoch `epoch` from Caffe iteration `iter`; `signal` stops it
   * after the batch in progress. Resolves with the batches done and the sum of their losses.
   */
  async epoch(
    epoch: number,
    iter: number,
    batches: number,
    onProgress: (batch: number, loss: number) => void,
    signal?: AbortSignal,
  ): Promise<{ batches: number; lossSum: number }> {
    Atomics.store(this.ctl, CTL.stop, signal?.aborted ? 1 : 0);
    const stop = () => Atomics.store(this.ctl, CTL.stop, 1);
    signal?.addEventListener('abort', stop);
    this.onProgress = onProgress;
    try {
      const [first] = await this.send({ type: 'epoch', epoch, iter, batches });
      if (first.type !== 'epochEnd') throw new FoolError('INTERNAL', `training worker answered ${first.type} to an epoch`);
      return { batches: first.batches, lossSum: first.lossSum };
    } finally {
      signal?.removeEventListener('abort', stop);
      this.onProgress = undefined;
    }
  }

  /** How many of the first `n` test images the current weights classify correctly (shared out). */
  async evaluate(n: number): Promise<number> {
    const K = this.workers.length;
    const answers = await this.send((k) => {
      const [from, to] = shareOf(n, k, K);
      return { type: 'evaluate', from, to };
    });
    return answers.reduce((s, a) => s + (a.type === 'evaluated' ? a.correct : 0), 0);
  }

  /**
   * Stops the workers: the abort flag ends a step at its next barrier (they poll it while they
   * wait), then each releases its sessions and exits. Never terminate(): a thread stopped inside
   * onnxruntime's session.run takes the process down with it (workers/pool.ts).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, CTL.abort, 1);
    await Promise.all(
      this.workers.map(
        (w, k) =>
          new Promise<void>((resolve) => {
            if (this.exited.has(k)) return resolve();
            w.once('exit', () => resolve());
            w.postMessage({ type: 'close' } satisfies ToTrainWorker);
          }),
      ),
    );
  }
}
