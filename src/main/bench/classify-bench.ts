import * as ort from 'onnxruntime-node';
import type { ModelInfo } from '../../shared/manifest';
import { Classifier } from '../core/models/classifier';
import { prepareModelBytes } from '../core/models/prepare';
import { preprocess } from '../core/models/preprocess';
import { sessionOptions } from '../core/models/provider';
import { SHARED_MODELS, hasShared } from './models';
import { fmt, printTable, rate } from './timing';

function randomPixels(n: number, info: ModelInfo): { n: number; height: number; width: number; channels: 1 | 3; data: Uint8Array } {
  const { height, width, channels } = info.manifest.input;
  const data = new Uint8Array(n * height * width * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return { n, height, width, channels, data };
}

/** A plain onnxruntime session on the same (batch-rewritten) model: the baseline. */
async function sessionRate(info: ModelInfo, batch: number, threads: number, minMs: number): Promise<number> {
  const { bytes } = prepareModelBytes(info.path);
  const s = await ort.InferenceSession.create(bytes, sessionOptions('cpu', threads));
  const spec = info.manifest.input;
  const input = preprocess(randomPixels(batch, info), spec);
  const feeds = { [spec.name]: new ort.Tensor('float32', input, [batch, spec.channels, spec.height, spec.width]) };
  const r = await rate(() => s.run(feeds), minMs);
  await s.release();
  return r * batch;
}

/**
 * The service: pixels in, probabilities out. `inFlight` calls at a time: 1 is a caller that waits
 * for each answer; 4 is a caller that streams batches, as the evolution's render->classify
 * pipeline does (the pool's queue keeps every worker busy).
 */
async function serviceRate(c: Classifier, batch: number, minMs: number, inFlight: number): Promise<number> {
  const px = randomPixels(batch, c.info);
  const calls = () => Promise.all(Array.from({ length: inFlight }, () => c.classify({ ...px, data: px.data.slice() })));
  return (await rate(calls, minMs)) * batch * inFlight;
}

export async function classificationBench(quick: boolean): Promise<string[]> {
  if (!hasShared()) {
    console.log('classification: skipped (needs ../shared/models)');
    return [];
  }
  const minMs = quick ? 500 : 1500;
  const rows: (string | number)[][] = [
    ['model', 'batch', 'session 1 thread', 'session 2 threads', 'service, 1 call at a time', 'service, 4 calls in flight', 'ratio (1 call)', 'ratio (4 in flight)'],
  ];
  for (const [name, make] of Object.entries(SHARED_MODELS)) {
    const info = make();
    const c = await Classifier.open(info, {});
    for (const batch of [1, 8, 32, 128]) {
      const s1 = await sessionRate(info, batch, 1, minMs);
      const s2 = await sessionRate(info, batch, 2, minMs);
      const svc = await serviceRate(c, batch, minMs, 1);
      const svc4 = await serviceRate(c, batch, minMs, 4);
      const best = Math.max(s1, s2);
      rows.push([name, batch, fmt(s1), fmt(s2), fmt(svc), fmt(svc4), (svc / best).toFixed(2), (svc4 / best).toFixed(2)]);
      console.error(`  ${name} batch ${batch}: ${fmt(svc)} / ${fmt(svc4)} images/s`);
    }
    await c.close();
  }
  return [printTable(`Classification, images/s: the service (pixels in, probabilities out, ${rows.length ? '2 workers x 1 thread' : ''}) against one plain onnxruntime session on the preprocessed tensor; ratio = service / best session`, rows)];
}
