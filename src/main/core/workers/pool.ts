import { Worker } from 'node:worker_threads';
import { FoolError, fromErrorPayload, toErrorPayload, type ErrorPayload } from '../../../shared/errors';

/** Messages every pooled worker sends back. */
export type FromWorker<R> =
  | { type: 'ready' }
  | { type: 'result'; id: number; value: R }
  /** Partial news of a long job (e.g. a gradient-ascent step); the job goes on. */
  | { type: 'progress'; id: number; value: unknown }
  | { type: 'error'; id: number | null; error: ErrorPayload };

interface Job<R> {
  id: number;
  msg: object;
  transfer: ArrayBuffer[];
  resolve: (r: R) => void;
  reject: (e: Error) => void;
  onProgress?: (value: unknown) => void;
}

interface Slot<R> {
  worker: Worker;
  inFlight: Map<number, Job<R>>;
  exited: boolean;
}

/** The pool's first message to each worker: the flag that says it is closing. */
const POOL_MESSAGE = 'pool';
interface PoolMessage {
  type: typeof POOL_MESSAGE;
  closing: Int32Array;
}

/** How many jobs a worker holds at once: one running, one waiting, so it never idles. */
const DEPTH = 2;

/**
 * A pool of identical worker threads fed from one queue; the least loaded worker takes the next
 * job. Workers say 'ready' once loaded, then answer each job with its id. Used for classification
 * (one onnxruntime session per worker) and for rendering genomes.
 */
export class WorkerPool<R> {
  private slots: Slot<R>[] = [];
  private queue: Job<R>[] = [];
  private nextId = 1;
  private broken: Error | undefined;
  private closed = false;
  /** Set at close; a worker reads it before each job, even while 'close' waits behind a run. */
  private readonly closing = new Int32Array(new SharedArrayBuffer(4));

  private constructor() {}

  static async start<R>(entry: string, count: number, workerData: unknown, loadError: (message: string) => Error): Promise<WorkerPool<R>> {
    const pool = new WorkerPool<R>();
    const starts: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(entry, { workerData });
      worker.postMessage({ type: POOL_MESSAGE, closing: pool.closing } satisfies PoolMessage);
      const slot: Slot<R> = { worker, inFlight: new Map(), exited: false };
      pool.slots.push(slot);
      starts.push(
        new Promise<void>((resolve, reject) => {
          const first = (msg: FromWorker<R>) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'error' && msg.id === null) reject(loadError(msg.error.message));
            else return;
            worker.off('message', first);
          };
          worker.on('message', first);
          worker.once('error', reject);
        }),
      );
      worker.on('message', (msg: FromWorker<R>) => pool.onMessage(slot, msg));
      worker.on('error', (e) => pool.fail(e));
      worker.on('exit', (code) => {
        slot.exited = true;
        if (!pool.closed && code !== 0) pool.fail(new Error(`worker thread exited with code ${code}`));
      });
    }
    try {
      await Promise.all(starts);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Sends one job (its `id` is filled in) and resolves with the worker's answer. */
  run(msg: object, transfer: ArrayBuffer[] = [], onProgress?: (value: unknown) => void): Promise<R> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new FoolError('INTERNAL', 'the worker pool is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      (msg as { id?: number }).id = id;
      this.queue.push({ id, msg, transfer, resolve, reject, onProgress });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot<R> | undefined;
      for (const s of this.slots) if (s.inFlight.size < DEPTH && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) return;
      const job = this.queue.shift()!;
      best.inFlight.set(job.id, job);
      best.worker.postMessage(job.msg, job.transfer);
    }
  }

  private onMessage(slot: Slot<R>, msg: FromWorker<R>): void {
    if (msg.type === 'ready' || msg.id === null) return;
    const job = slot.inFlight.get(msg.id);
    if (!job) return;
    if (msg.type === 'progress') {
      job.onProgress?.(msg.value);
      return;
    }
    slot.inFlight.delete(msg.id);
    if (msg.type === 'result') job.resolve(msg.value);
    else job.reject(fromErrorPayload(msg.error));
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const s of this.slots) for (const j of s.inFlight.values()) j.reject(e);
    for (const j of this.queue) j.reject(e);
    this.queue = [];
  }

  /**
   * Stops the pool: each worker finishes (and answers) the job it is running, runs nothing more
   * and exits; jobs not yet begun stay unanswered, as queued ones always did (a caller that closes
   * has stopped waiting, and a refusal would reach promises nobody handles any more, such as the
   * next generation's renders begun before a stop). No worker is ever terminated: onnxruntime-node
   * cannot be interrupted inside session.run, and a thread stopped there takes the whole process
   * down on its way out ("terminate called after throwing an instance of 'Napi::Error'",
   * test/worker-close.test.ts). So close() lasts as long as the longest job running (one batch;
   * an ascent job stops at its next step on its stop flag).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    Atomics.store(this.closing, 0, 1);
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exited) return resolve();
            s.worker.once('exit', () => resolve());
            s.worker.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}

/**
 * Worker side: answers jobs one at a time, in order, with transferable results. On 'close' the
 * job running ends, those waiting behind it are dropped (the pool no longer waits for them), then
 * `onClose` and the thread exits.
 */
export function serveJobs<M extends { type: string; id: number }, R>(
  port: import('node:worker_threads').MessagePort,
  handle: (msg: M) => Promise<{ value: R; transfer?: ArrayBuffer[] }> | { value: R; transfer?: ArrayBuffer[] },
  onClose: () => Promise<void> | void = () => undefined,
): void {
  let queue: Promise<void> = Promise.resolve();
  // The 'close' message waits behind a running job (session.run blocks the thread, and the next
  // job starts in the same turn), so the pool's shared flag is what a worker reads before a job.
  let closing: Int32Array = new Int32Array(1);
  port.on('message', (m: M | PoolMessage | { type: 'close' }) => {
    if (m.type === POOL_MESSAGE) {
      closing = (m as PoolMessage).closing;
      return;
    }
    if (m.type === 'close') {
      void queue.then(onClose).finally(() => process.exit(0));
      return;
    }
    const job = m as M;
    queue = queue
      .then(async () => {
        if (Atomics.load(closing, 0) !== 0) return;
        const { value, transfer } = await handle(job);
        port.postMessage({ type: 'result', id: job.id, value } satisfies FromWorker<R>, transfer ?? []);
      })
      .catch((e: unknown) => port.postMessage({ type: 'error', id: job.id, error: toErrorPayload(e) } satisfies FromWorker<R>));
  });
}
