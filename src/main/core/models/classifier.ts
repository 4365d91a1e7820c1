import { Worker } from 'node:worker_threads';
import { FoolError, fromErrorPayload } from '../../../shared/errors';
import type { ModelInfo } from '../../../shared/manifest';
import { builtEntry } from '../paths';
import type { PixelBatch } from './preprocess';
import { prepareModelBytes } from './prepare';
import { chooseProvider, defaultParallelism, type ProviderChoice, type ProviderRequest } from './provider';
import type { ClassifyWorkerInit, FromWorker, ToWorker } from './worker-protocol';

export interface ClassifierOptions {
  provider?: ProviderRequest;
  /** Worker threads, each with its own onnxruntime session. */
  workers?: number;
  /** onnxruntime intra-op threads per worker. */
  threadsPerWorker?: number;
  /** Largest batch one session run gets; bigger requests are split across workers. */
  maxBatch?: number;
  fastLrn?: boolean;
}

interface Job {
  id: number;
  msg: ToWorker;
  transfer: ArrayBuffer[];
  resolve: (p: Float32Array) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Job>;
}

/** How many jobs a worker holds at once: one running, one waiting, so it never idles. */
const DEPTH = 2;

/**
 * The classification service: images in pixel space in, class probabilities out, evaluated in
 * batches by a pool of worker threads. Requests from many callers share one queue.
 */
export class Classifier {
  readonly info: ModelInfo;
  readonly classes: number;
  readonly provider: ProviderChoice;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly maxBatch: number;
  readonly notes: string[];
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private broken: Error | undefined;
  private closed = false;

  private constructor(info: ModelInfo, provider: ProviderChoice, workers: number, threads: number, maxBatch: number, notes: string[]) {
    this.info = info;
    this.classes = info.manifest.classes;
    this.provider = provider;
    this.workers = workers;
    this.threadsPerWorker = threads;
    this.maxBatch = maxBatch;
    this.notes = notes;
  }

  static async open(info: ModelInfo, opts: ClassifierOptions = {}): Promise<Classifier> {
    const provider = chooseProvider(opts.provider ?? 'auto');
    const dflt = defaultParallelism(provider.provider);
    const workers = opts.workers ?? dflt.workers;
    const threads = opts.threadsPerWorker ?? dflt.threadsPerWorker;
    if (!Number.isInteger(workers) || workers < 1) throw new FoolError('BAD_INPUT', `workers must be >= 1, got ${workers}`);
    if (!Number.isInteger(threads) || threads < 1) throw new FoolError('BAD_INPUT', `threads per worker must be >= 1, got ${threads}`);
    const { bytes, notes } = prepareModelBytes(info.path, { fastLrn: opts.fastLrn });
    const c = new Classifier(info, provider, workers, threads, opts.maxBatch ?? 128, notes);
    const m = info.manifest;
    const init: ClassifyWorkerInit = {
      bytes,
      spec: m.input,
      outputName: m.output.name,
      outputKind: m.output.kind,
      labelOffset: m.labelOffset,
      classes: m.classes,
      provider: provider.provider,
      threads,
    };
    const entry = builtEntry('classify-worker');
    const starts: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(entry, { workerData: init });
      const slot: Slot = { worker, inFlight: new Map() };
      c.slots.push(slot);
      starts.push(
        new Promise<void>((resolve, reject) => {
          const onReady = (msg: FromWorker) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'error' && msg.id === null) reject(modelLoadError(info, msg.error.message));
            if (msg.type === 'ready' || (msg.type === 'error' && msg.id === null)) worker.off('message', onReady);
          };
          worker.on('message', onReady);
          worker.once('error', reject);
        }),
      );
      worker.on('message', (msg: FromWorker) => c.onMessage(slot, msg));
      worker.on('error', (e) => c.fail(e));
      worker.on('exit', (code) => {
        if (!c.closed && code !== 0) c.fail(new Error(`classification worker exited with code ${code}`));
      });
    }
    try {
      await Promise.all(starts);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  /** Probabilities [n, classes] for a batch of images. */
  classify(batch: PixelBatch): Promise<Float32Array> {
    const { n, height, width, channels } = batch;
    const per = height * width * channels;
    return this.split(n, (start, count) => {
      const data = batch.data.slice(start * per, (start + count) * per);
      return { msg: { type: 'pixels', id: 0, batch: { n: count, height, width, channels, data } }, transfer: [data.buffer] };
    });
  }

  /** Probabilities for inputs already preprocessed into the model's layout. */
  classifyTensor(n: number, data: Float32Array): Promise<Float32Array> {
    const per = data.length / n;
    return this.split(n, (start, count) => {
      const part = data.slice(start * per, (start + count) * per);
      return { msg: { type: 'tensor', id: 0, n: count, data: part }, transfer: [part.buffer] };
    });
  }

  private async split(n: number, make: (start: number, count: number) => { msg: ToWorker; transfer: ArrayBuffer[] }): Promise<Float32Array> {
    if (this.broken) throw this.broken;
    if (this.closed) throw new FoolError('INTERNAL', 'the classifier is closed');
    if (n === 0) return new Float32Array(0);
    // Split so that every worker gets a share, no share above maxBatch.
    const chunk = Math.max(1, Math.min(this.maxBatch, Math.ceil(n / this.workers)));
    const parts: Promise<Float32Array>[] = [];
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const { msg, transfer } = make(start, count);
      parts.push(this.enqueue(msg, transfer));
    }
    const results = await Promise.all(parts);
    if (results.length === 1) return results[0];
    const out = new Float32Array(n * this.classes);
    let o = 0;
    for (const r of results) {
      out.set(r, o);
      o += r.length;
    }
    return out;
  }

  private enqueue(msg: ToWorker, transfer: ArrayBuffer[]): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      if (msg.type !== 'close') msg.id = id;
      this.queue.push({ id, msg, transfer, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // The least loaded worker takes the next job.
      let best: Slot | undefined;
      for (const s of this.slots) if (s.inFlight.size < DEPTH && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) return;
      const job = this.queue.shift()!;
      best.inFlight.set(job.id, job);
      best.worker.postMessage(job.msg, job.transfer);
    }
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') return;
    const id = msg.id;
    if (id === null) return;
    const job = slot.inFlight.get(id);
    if (!job) return;
    slot.inFlight.delete(id);
    if (msg.type === 'result') job.resolve(msg.probs);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.worker.once('exit', () => resolve());
            s.worker.postMessage({ type: 'close' } satisfies ToWorker);
            setTimeout(() => void s.worker.terminate(), 2000).unref();
          }),
      ),
    );
  }
}

function modelLoadError(info: ModelInfo, message: string): FoolError {
  return new FoolError(
    'BAD_MODEL',
    `onnxruntime cannot load model "${info.manifest.name}" (${info.path}): ${message.split('\n')[0]}`,
    'Check that the file is a complete ONNX classifier',
  );
}
