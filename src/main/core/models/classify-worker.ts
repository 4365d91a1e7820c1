import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { toErrorPayload } from '../../../shared/errors';
import { dropLabelOffset, preprocess, softmaxRows } from './preprocess';
import { sessionOptions } from './provider';
import type { ClassifyWorkerInit, FromWorker, ToWorker } from './worker-protocol';

/**
 * A classification worker: one onnxruntime session on its own thread, since session.run blocks
 * the thread it runs on. Pixels in, class probabilities out (softmax applied for logit models,
 * label offset dropped), buffers transferred rather than copied.
 */
const init = workerData as ClassifyWorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const { spec } = init;
const dims = (n: number) => (spec.layout === 'NCHW' ? [n, spec.channels, spec.height, spec.width] : [n, spec.height, spec.width, spec.channels]);
let scratch = new Float32Array(0);
let queue: Promise<void> = Promise.resolve();

async function main() {
  const session = await ort.InferenceSession.create(init.bytes, sessionOptions(init.provider, init.threads));
  const kOut = init.classes + init.labelOffset;

  async function evaluate(id: number, n: number, input: Float32Array) {
    const feeds = { [spec.name]: new ort.Tensor('float32', input, dims(n)) };
    const out = await session.run(feeds, [init.outputName]);
    const t = out[init.outputName];
    const raw = t.data as Float32Array;
    if (raw.length !== n * kOut) throw new Error(`output ${init.outputName} has ${raw.length / n} values per image, expected ${kOut}`);
    let probs: Float32Array = Float32Array.from(raw);
    t.dispose();
    if (init.outputKind === 'logits') softmaxRows(probs, n, kOut);
    probs = dropLabelOffset(probs, n, kOut, init.labelOffset);
    post({ type: 'result', id, probs }, [probs.buffer as ArrayBuffer]);
  }

  port.on('message', (m: ToWorker) => {
    if (m.type === 'close') {
      void session.release().finally(() => process.exit(0));
      return;
    }
    const work = async () => {
      if (m.type === 'pixels') {
        const need = m.batch.n * spec.height * spec.width * spec.channels;
        if (scratch.length < need) scratch = new Float32Array(need);
        const input = preprocess(m.batch, spec, scratch);
        await evaluate(m.id, m.batch.n, input);
      } else {
        await evaluate(m.id, m.n, m.data);
      }
    };
    // One job at a time: the pool sends the next one ahead so the thread never idles, and the
    // scratch buffer is reused.
    queue = queue.then(work).catch((e: unknown) => post({ type: 'error', id: m.id, error: toErrorPayload(e) }));
  });
  post({ type: 'ready' });
}

main().catch((e: unknown) => post({ type: 'error', id: null, error: toErrorPayload(e) }));
