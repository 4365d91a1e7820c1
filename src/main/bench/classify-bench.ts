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

/** The service, as the engine uses it: one call per batch, pixels in, probabilities out. */
async function serviceRate(c: Classifier, batch: number, minMs: number): Promise<number> {
  const px = randomPixels(batch, c.info);
  return (await rate(() => c.classify({ ...px, data: px.data.slice() }), minMs)) * batch;
}

export async function classificationBench(quick: boolean): Promise<string[]> {
  if (!hasShared()) {
    console.log('classification: skipped (needs ../shared/models)');
    return [];
  }
  const minMs = quick ? 500 : 1500;
  const rows: (string | number)[][] = [['model', 'batch', 'session 1 thread', 'session 2 threads', 'service (2 workers x 1)', 'service / best session']];
  for (const [name, make] of Object.entries(SHARED_MODELS)) {
    const info = make();
    const c = await Classifier.open(info, {});
    for (const batch of [1, 8, 32, 128]) {
      const s1 = await sessionRate(info, batch, 1, minMs);
      const s2 = await sessionRate(info, batch, 2, minMs);
      const svc = await serviceRate(c, batch, minMs);
      rows.push([name, batch, fmt(s1), fmt(s2), fmt(svc), (svc / Math.max(s1, s2)).toFixed(2)]);
      console.error(`  ${name} batch ${batch}: ${fmt(svc)} images/s`);
    }
    await c.close();
  }
  return [printTable('Classification, images/s (pixels in, probabilities out for the service)', rows)];
}
