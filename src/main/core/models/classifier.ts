import { FoolError } from '../../../shared/errors';
import { limitProblem } from '../../../shared/limits';
import type { ModelInfo } from '../../../shared/manifest';
import { builtEntry } from '../paths';
import type { PixelBatch } from './image';
import { prepareModelBytes } from './prepare';
import { chooseProvider, defaultParallelism, type ProviderChoice, type ProviderRequest } from './provider';
import { WorkerPool } from '../workers/pool';
import { SpareBuffers } from '../workers/spare-buffers';
import type { ClassifyJob, ClassifyResult, ClassifyWorkerInit } from './worker-protocol';

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
  private pool!: WorkerPool<ClassifyResult>;
  /** Buffers that carried jobs to the workers and came back (workers/spare-buffers.ts). */
  private spare!: SpareBuffers;

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
    // Each worker holds its own session and copy of the model: 1000 of them is gigabytes, not speed.
    for (const [name, v] of [['workers', workers], ['threads', threads], ['maxBatch', opts.maxBatch]] as const) {
      const bad = v === undefined ? null : limitProblem(name, v);
      if (bad) {
        throw new FoolError('BAD_INPUT', `${name} ${bad}, got ${v}`, `Leave it out for the default (here: ${dflt.workers} workers of ${dflt.threadsPerWorker} threads, batches of 128)`);
      }
    }
    const { bytes, notes, graphLevel } = prepareModelBytes(info.path, { fastLrn: opts.fastLrn });
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
      graphLevel: graphLevel.level,
    };
    // Enough for every job in flight (2 per worker) and the parts of the next call.
    c.spare = new SpareBuffers(4 * workers);
    c.pool = await WorkerPool.start<ClassifyResult>(builtEntry('classify-worker'), workers, init, (msg) => modelLoadError(info, msg));
    return c;
  }

  /** Probabilities [n, classes] for a batch of images (batch.data is read, not kept). */
  classify(batch: PixelBatch): Promise<Float32Array> {
    const { n, height, width, channels } = batch;
    const per = height * width * channels;
    return this.split(n, (start, count) => {
      const data = this.carry(batch.data, start * per, count * per);
      return { type: 'pixels', id: 0, batch: { n: count, height, width, channels, data } };
    });
  }

  /**
   * Probabilities [n, classes] with each image scored as the mean over its 10 crops (Caffe's
   * oversample, ten-crop.ts): the images travel whole and the workers cut the crops.
   */
  classifyTenCrop(batch: PixelBatch): Promise<Float32Array> {
    const { n, height, width, channels } = batch;
    const per = height * width * channels;
    const maxBatch = this.maxBatch;
    return this.split(n, (start, count) => {
      const data = this.carry(batch.data, start * per, count * per);
      return { type: 'pixels', id: 0, batch: { n: count, height, width, channels, data }, tenCrop: { maxBatch } };
    });
  }

  /** Probabilities for inputs already preprocessed into the model's layout. */
  classifyTensor(n: number, data: Float32Array): Promise<Float32Array> {
    const per = data.length / n;
    return this.split(n, (start, count) => ({ type: 'tensor', id: 0, n: count, data: this.carry(data, start * per, count * per) }));
  }

  /** A copy of values [start, start + length) in a spare buffer, to be transferred to a worker. */
  private carry<T extends Uint8Array | Float32Array>(from: T, start: number, length: number): T {
    // A short batch must fail as it did when parts were sliced out of it, not read a spare buffer's old bytes.
    if (start + length > from.length) {
      throw new FoolError('BAD_INPUT', `the batch holds ${from.length} values, fewer than its images need (${start + length} or more)`, 'Pass n images of height x width x channels values each');
    }
    const bytes = length * from.BYTES_PER_ELEMENT;
    const buffer = this.spare.take(bytes);
    const to = (from instanceof Float32Array ? new Float32Array(buffer, 0, length) : new Uint8Array(buffer, 0, length)) as T;
    to.set(from.subarray(start, start + length));
    return to;
  }

  private async split(n: number, make: (start: number, count: number) => ClassifyJob): Promise<Float32Array> {
    if (n === 0) return new Float32Array(0);
    // Split so that every worker gets a share, no share above maxBatch. Every part is copied out
    // before the first is sent, so the last worker does not wait for the copies of the others.
    const chunk = Math.max(1, Math.min(this.maxBatch, Math.ceil(n / this.workers)));
    const jobs: ClassifyJob[] = [];
    for (let start = 0; start < n; start += chunk) jobs.push(make(start, Math.min(chunk, n - start)));
    const parts = jobs.map((job) => {
      const input = job.type === 'tensor' ? job.data : job.batch.data;
      return this.pool.run(job, [input.buffer as ArrayBuffer]).then((r) => {
        this.spare.give(r.input);
        return r.probs;
      });
    });
    const results = await Promise.all(parts);
    let out: Float32Array;
    if (results.length === 1) out = results[0];
    else {
      out = new Float32Array(n * this.classes);
      let o = 0;
      for (const r of results) {
        out.set(r, o);
        o += r.length;
      }
    }
    // A broken model (NaN weights, an overflow) must not become a "NaN%" answer or a fitness.
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) {
        throw new FoolError(
          'BAD_MODEL',
          `model "${this.info.manifest.name}" gave ${out[i]} as a probability (image ${Math.floor(i / this.classes)}, class ${i % this.classes}); its outputs are not numbers`,
          'Check the model in another tool (its weights may hold NaN or overflow); nothing was saved from this batch',
        );
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.pool ? this.pool.close() : Promise.resolve();
  }
}

function modelLoadError(info: ModelInfo, message: string): FoolError {
  return new FoolError(
    'BAD_MODEL',
    `onnxruntime cannot load model "${info.manifest.name}" (${info.path}): ${message.split('\n')[0]}`,
    'Check that the file is a complete ONNX classifier',
  );
}
