import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { toErrorPayload } from '../../../shared/errors';
import { serveJobs } from '../workers/pool';
import { dropLabelOffset, preprocess, softmaxRows } from './preprocess';
import { sessionOptions } from './provider';
import type { ClassifyJob, ClassifyWorkerInit } from './worker-protocol';

/**
 * A classification worker: one onnxruntime session on its own thread, since session.run blocks
 * the thread it runs on. Pixels in, class probabilities out (softmax applied for logit models,
 * label offset dropped), buffers transferred rather than copied.
 */
const init = workerData as ClassifyWorkerInit;
const port = parentPort!;
const { spec } = init;
const dims = (n: number) => (spec.layout === 'NCHW' ? [n, spec.channels, spec.height, spec.width] : [n, spec.height, spec.width, spec.channels]);
let scratch = new Float32Array(0);

async function main() {
  const session = await ort.InferenceSession.create(init.bytes, sessionOptions(init.provider, init.threads, init.graphLevel));
  const kOut = init.classes + init.labelOffset;

  async function evaluate(n: number, input: Float32Array) {
    const out = await session.run({ [spec.name]: new ort.Tensor('float32', input, dims(n)) }, [init.outputName]);
    const t = out[init.outputName];
    const raw = t.data as Float32Array;
    if (raw.length !== n * kOut) throw new Error(`output ${init.outputName} has ${raw.length / n} values per image, expected ${kOut}`);
    let probs: Float32Array = Float32Array.from(raw);
    t.dispose();
    if (init.outputKind === 'logits') softmaxRows(probs, n, kOut);
    probs = dropLabelOffset(probs, n, kOut, init.labelOffset);
    return { value: probs, transfer: [probs.buffer as ArrayBuffer] };
  }

  // Jobs run one at a time (the pool sends the next ahead so the thread never idles), which also
  // makes reusing the scratch buffer safe.
  serveJobs<ClassifyJob, Float32Array>(
    port,
    (m) => {
      if (m.type === 'tensor') return evaluate(m.n, m.data);
      const need = m.batch.n * spec.height * spec.width * spec.channels;
      if (scratch.length < need) scratch = new Float32Array(need);
      return evaluate(m.batch.n, preprocess(m.batch, spec, scratch));
    },
    () => session.release(),
  );
  port.postMessage({ type: 'ready' });
}

main().catch((e: unknown) => port.postMessage({ type: 'error', id: null, error: toErrorPayload(e) }));
