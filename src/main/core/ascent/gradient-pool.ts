import { FoolError } from '../../../shared/errors';
import type { ModelInfo } from '../../../shared/manifest';
import { buildGradientModel, type Objective } from '../grad/backward';
import { type GraphLevelChoice, chooseGraphLevel } from '../models/graph-level';
import { decodeModel, encodeModel } from '../models/onnx-graph';
import { prepareModel, readModelFile } from '../models/prepare';
import { builtEntry } from '../paths';
import { WorkerPool } from '../workers/pool';
import { SpareBuffers } from '../workers/spare-buffers';
import type { AscentImageResult, AscentJob, AscentWorkerInit, GradientAnswer, GradientJob, GradientResult } from './protocol';

/**
 * The gradient graph of a classifier (forward + d objective / d input) as its sessions run it,
 * with the graph optimisation level its convolutions want (models/graph-level.ts).
 */
export function gradientGraph(info: ModelInfo, objective: Objective): { bytes: Uint8Array; level: GraphLevelChoice } {
  const m = info.manifest;
  const model = decodeModel(readModelFile(info.path), info.path);
  const level = chooseGraphLevel(model); // from the stored convolutions, before the rewrites change them
  prepareModel(model, { fastLrn: false }); // LRN is differentiated through its own rewrite
  const grad = buildGradientModel(model, { output: m.output.name, outputKind: m.output.kind, objective, wrt: [m.input.name] });
  return { bytes: encodeModel(grad), level };
}

export interface GradientPoolOptions {
  objective: Objective;
  /** Worker threads, each with a single-threaded session of the gradient graph. */
  workers: number;
  /** The ascent's start image (pixel space); only ascent jobs read it. */
  meanImage?: Float32Array;
}

/**
 * Input gradients off the main thread: worker threads that each hold one onnxruntime session of
 * the model's gradient graph (forward + d objective / d input, grad/backward.ts). `fool ascent`
 * runs its jobs here, and gradient() serves plain batches, split across the workers as the
 * classification service splits them. One single-threaded session per core: on the 2-core
 * development machine two LeNet sessions of 1 thread computed ~1.4x the gradients of one
 * session of 2 threads (docs/benchmarks.md).
 */
export class GradientPool {
  /** Buffers that carried inputs to the workers and came back (workers/spare-buffers.ts). */
  private readonly spare: SpareBuffers;

  private constructor(
    private readonly pool: WorkerPool<unknown>,
    readonly info: ModelInfo,
    readonly workers: number,
    /** Why the sessions run at the graph optimisation level they do. */
    readonly graphLevel: string,
  ) {
    this.spare = new SpareBuffers(4 * workers);
  }

  static async open(info: ModelInfo, opts: GradientPoolOptions): Promise<GradientPool> {
    const m = info.manifest;
    const { bytes, level } = gradientGraph(info, opts.objective);
    const init: AscentWorkerInit = {
      bytes,
      spec: m.input,
      outputs: m.classes + m.labelOffset,
      labelOffset: m.labelOffset,
      meanImage: opts.meanImage ?? new Float32Array(m.input.height * m.input.width * m.input.channels),
      threads: 1,
      graphLevel: level.level,
    };
    const pool = await WorkerPool.start<unknown>(builtEntry('ascent-worker'), opts.workers, init, (msg) => new FoolError('BAD_MODEL', `cannot run the gradient graph of ${m.name}: ${msg}`));
    return new GradientPool(pool, info, opts.workers, `${level.level} (${level.reason})`);
  }

  /** One ascent job (a group of classes), with per-step progress. */
  ascend(job: Omit<AscentJob, 'id'>, onProgress?: (value: unknown) => void): Promise<AscentImageResult[]> {
    return this.pool.run(job, [], onProgress) as Promise<AscentImageResult[]>;
  }

  /**
   * Probabilities and d objective / d input for n inputs in the model's layout (x is read, not
   * kept). Split so that every worker gets a share.
   */
  async gradient(n: number, x: Float32Array, targets: number[]): Promise<GradientResult> {
    if (n === 0) return { probs: new Float32Array(0), grad: new Float32Array(0) };
    const per = x.length / n;
    if (!Number.isInteger(per) || targets.length !== n) {
      throw new FoolError('BAD_INPUT', `gradient(): ${x.length} input values and ${targets.length} targets do not make ${n} images`, 'Pass n images in the model layout and one target class each');
    }
    const chunk = Math.max(1, Math.ceil(n / this.workers));
    // Every part is copied (into a spare buffer) before the first is sent, so the last worker does
    // not wait for the copies of the others.
    const jobs: Omit<GradientJob, 'id'>[] = [];
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const part = new Float32Array(this.spare.take(count * per * 4), 0, count * per);
      part.set(x.subarray(start * per, (start + count) * per));
      jobs.push({ type: 'gradient', n: count, x: part, targets: targets.slice(start, start + count) });
    }
    const parts = jobs.map((job) =>
      (this.pool.run(job, [job.x.buffer as ArrayBuffer]) as Promise<GradientAnswer>).then((r) => {
        this.spare.give(r.input);
        return r;
      }),
    );
    const results = await Promise.all(parts);
    if (results.length === 1) return { probs: results[0].probs, grad: results[0].grad };
    const outputs = results[0].probs.length / Math.min(chunk, n);
    const probs = new Float32Array(n * outputs);
    const grad = new Float32Array(n * per);
    let i = 0;
    for (const r of results) {
      probs.set(r.probs, i * outputs);
      grad.set(r.grad, i * per);
      i += r.probs.length / outputs;
    }
    return { probs, grad };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
