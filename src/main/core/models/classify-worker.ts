import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { toErrorPayload } from '../../../shared/errors';
import { serveJobs } from '../workers/pool';
import type { PixelBatch } from './image';
import { dropLabelOffset, preprocess, softmaxRows } from './preprocess';
import { averageTenCrops, tenCrops } from './ten-crop';
import { sessionOptions } from './provider';
import type { ClassifyJob, ClassifyResult, ClassifyWorkerInit } from './worker-protocol';

/**
 * A classification worker: one onnxruntime session on its own thread, since session.run blocks
 * the thread it runs on. Pixels in, class probabilities out (softmax applied for logit models,
 * label offset dropped). The answer is a copy of onnxruntime's output (see evaluate);
 * the buffer that brought the job goes back to bring another (workers/spare-buffers.ts).
 */
const init = workerData as ClassifyWorkerInit;
const port = parentPort!;
const { spec } = init;
const dims = (n: number) => (spec.layout === 'NCHW' ? [n, spec.channels, spec.height, spec.width] : [n, spec.height, spec.width, spec.channels]);
let scratch = new Float32Array(0);

async function main() {
  const session = await ort.InferenceSession.create(init.bytes, sessionOptions(init.provider, init.threads, init.graphLevel));
  const kOut = init.classes + init.labelOffset;

  /** Probabilities [n, classes] of n inputs in the model's layout. */
  async function evaluate(n: number, input: Float32Array): Promise<Float32Array> {
    const out = await session.run({ [spec.name]: new ort.Tensor('float32', input, dims(n)) }, [init.outputName]);
    const raw = out[init.outputName].data as Float32Array;
    if (raw.length !== n * kOut) throw new Error(`output ${init.outputName} has ${raw.length / n} values per image, expected ${kOut}`);
    // A copy (1.6 MB for SqueezeNet's 400 x 1000, small against the run). Transferring
    // onnxruntime-node's own buffer was undone when an abort was blamed on it; the abort came from
    // terminating a worker inside session.run (workers/pool.ts, close).
    let probs: Float32Array = raw.slice();
    if (init.outputKind === 'logits') softmaxRows(probs, n, kOut);
    probs = dropLabelOffset(probs, n, kOut, init.labelOffset);
    return probs;
  }

  /** The answer to a job: the probabilities, and the job's input buffer going back for reuse. */
  function answer(probs: Float32Array, input: ArrayBufferView): { value: ClassifyResult; transfer: ArrayBuffer[] } {
    const back = input.buffer as ArrayBuffer;
    return { value: { probs, input: back }, transfer: [probs.buffer as ArrayBuffer, back] };
  }

  /** A scratch input tensor for n images (jobs run one at a time: reusing it is safe). */
  function input(n: number): Float32Array {
    const need = n * spec.height * spec.width * spec.channels;
    if (scratch.length < need) scratch = new Float32Array(need);
    return scratch;
  }

  /**
   * Each image scored as the mean of its 10 crops, cut here (off the main thread) for a few images
   * at a time: at most maxBatch crops a run (a crop's probabilities do not depend on its batch).
   */
  async function evaluateTenCrop(batch: PixelBatch, maxBatch: number) {
    const per = batch.height * batch.width * batch.channels;
    const K = init.classes;
    const group = Math.max(1, Math.floor(maxBatch / 10));
    const probs = new Float32Array(batch.n * 10 * K);
    for (let start = 0; start < batch.n; start += group) {
      const count = Math.min(group, batch.n - start);
      const crops = tenCrops({ ...batch, n: count, data: batch.data.subarray(start * per, (start + count) * per) }, spec.height, spec.width);
      probs.set(await evaluate(crops.n, preprocess(crops, spec, input(crops.n))), start * 10 * K);
    }
    return answer(averageTenCrops(probs, batch.n, K), batch.data);
  }

  // Jobs run one at a time (the pool sends the next ahead so the thread never idles), which also
  // makes reusing the scratch buffer safe.
  serveJobs<ClassifyJob, ClassifyResult>(
    port,
    async (m) => {
      if (m.type === 'tensor') return answer(await evaluate(m.n, m.data), m.data);
      if (m.tenCrop) return evaluateTenCrop(m.batch, m.tenCrop.maxBatch);
      return answer(await evaluate(m.batch.n, preprocess(m.batch, spec, input(m.batch.n))), m.batch.data);
    },
    () => session.release(),
  );
  port.postMessage({ type: 'ready' });
}

main().catch((e: unknown) => port.postMessage({ type: 'error', id: null, error: toErrorPayload(e) }));
