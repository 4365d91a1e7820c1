import * as ort from 'onnxruntime-node';
import type { ModelInfo } from '../../shared/manifest';
import { Classifier } from '../core/models/classifier';
import { prepareModelBytes } from '../core/models/prepare';
import { preprocess } from '../core/models/preprocess';
import { sessionOptions } from '../core/models/provider';
import type { GraphLevel } from '../core/models/graph-level';
import { SHARED_MODELS, hasShared } from './models';
import { recordTarget, skipTarget } from './targets';
import { fmt, interleavedRates, printTable } from './timing';

function randomPixels(n: number, info: ModelInfo): { n: number; height: number; width: number; channels: 1 | 3; data: Uint8Array } {
  const { height, width, channels } = info.manifest.input;
  const data = new Uint8Array(n * height * width * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return { n, height, width, channels, data };
}

/** A plain onnxruntime session on the same (batch-rewritten) model, fed the preprocessed tensor: the baseline. */
async function openSession(info: ModelInfo, batch: number, threads: number, level: GraphLevel) {
  const { bytes } = prepareModelBytes(info.path);
  const s = await ort.InferenceSession.create(bytes, sessionOptions('cpu', threads, level));
  const spec = info.manifest.input;
  const input = preprocess(randomPixels(batch, info), spec);
  const feeds = { [spec.name]: new ort.Tensor('float32', input, [batch, spec.channels, spec.height, spec.width]) };
  return { run: () => s.run(feeds), release: () => s.release() };
}

/**
 * The service: pixels in, probabilities out. `inFlight` calls at a time: 1 is a caller that waits
 * for each answer; 4 is a caller that streams batches, as the evolution's render->classify
 * pipeline does (the pool's queue keeps every worker busy). classify() reads the pixels and keeps
 * nothing, so one batch serves every call (the sessions' side reuses its tensor too).
 */
function serviceCall(c: Classifier, batch: number, inFlight: number): () => Promise<unknown> {
  const px = randomPixels(batch, c.info);
  return () => Promise.all(Array.from({ length: inFlight }, () => c.classify(px)));
}

/**
 * Target 3 of issue 15: the service against the best plain session (1 or 2 threads, at the graph
 * level the service chose and at onnxruntime's default 'all'), each batch size measured in
 * interleaved rounds (medians). The other split of the two cores (1 worker x 2 threads) is measured
 * beside the default (2 workers x 1 thread) at batches 32-128.
 */
export async function classificationBench(quick: boolean): Promise<string[]> {
  if (!hasShared()) {
    console.log('classification: skipped (needs ../shared/models)');
    skipTarget('3 lenet service', 'needs ../shared/models (Caffe LeNet)');
    skipTarget('3 squeezenet service', 'needs ../shared/models (SqueezeNet 1.0)');
    return [];
  }
  const rows: (string | number)[][] = [
    ['model', 'batch', 'session 1 thread', 'session 2 threads', 'service, 1 call at a time', 'service, 4 calls in flight', 'ratio (1 call)', 'ratio (4 in flight)', 'service 1 worker x 2 threads, 1 call'],
  ];
  const notes: string[] = [];
  let squeezeWorst = Infinity;
  for (const [name, make] of Object.entries(SHARED_MODELS)) {
    const info = make();
    const c = await Classifier.open(info, {});
    const chosen = prepareModelBytes(info.path).graphLevel;
    const levels: GraphLevel[] = chosen.level === 'all' ? ['all'] : [chosen.level, 'all'];
    notes.push(`${name}: service ${c.workers} workers x ${c.threadsPerWorker} thread(s), graph level ${chosen.level} (${chosen.reason}); sessions at ${levels.join(' and ')}, the best counted`);
    // The other split of the two cores, measured beside the default for both models (LeNet's
    // 1-call figure is target 3's, and one 2-thread session beats two 1-thread ones there).
    const alt = await Classifier.open(info, { workers: 1, threadsPerWorker: 2 });
    for (const batch of [1, 8, 32, 64, 128]) {
      const sessions = [];
      for (const level of levels) for (const threads of [1, 2]) sessions.push({ threads, s: await openSession(info, batch, threads, level) });
      const fns = [...sessions.map((x) => x.s.run), serviceCall(c, batch, 1)];
      if (batch <= 32) fns.push(serviceCall(c, batch, 4));
      if (batch >= 32) fns.push(serviceCall(alt, batch, 1));
      const rounds = quick ? 2 : batch >= 32 ? 5 : 3;
      const r = (await interleavedRates(fns, rounds, quick ? 300 : 800)).map((v) => v * batch);
      for (const x of sessions) await x.s.release();
      const best1 = Math.max(...sessions.map((x, i) => (x.threads === 1 ? r[i] : 0)));
      const best2 = Math.max(...sessions.map((x, i) => (x.threads === 2 ? r[i] : 0)));
      const best = Math.max(best1, best2);
      const svc = r[sessions.length];
      const svc4 = batch <= 32 ? r[sessions.length + 1] * 4 : undefined;
      const altRate = batch >= 32 ? r[r.length - 1] : undefined;
      rows.push([name, batch, fmt(best1), fmt(best2), fmt(svc), svc4 ? fmt(svc4) : '-', (svc / best).toFixed(2), svc4 ? (svc4 / best).toFixed(2) : '-', altRate ? `${fmt(altRate)} (${(altRate / best).toFixed(2)})` : '-']);
      console.error(`  ${name} batch ${batch}: service ${fmt(svc)} images/s, best session ${fmt(best)}`);
      if (name === 'lenet' && batch === 128) {
        recordTarget({ id: '3 lenet service', what: `LeNet classification service, batch 128, 1 call at a time, images/s (${c.workers} workers x ${c.threadsPerWorker} thread, pixels in, probabilities out; median of ${rounds} rounds)`, value: svc, unit: 'images/s', goal: { op: '>=', value: 2, vs: 'inference128' } });
      }
      if (name === 'squeezenet' && batch >= 32) squeezeWorst = Math.min(squeezeWorst, svc / best);
    }
    await c.close();
    await alt.close();
  }
  recordTarget({ id: '3 squeezenet service', what: 'worst of batches 32, 64, 128: SqueezeNet service (1 call at a time) / best single session', value: squeezeWorst, unit: 'ratio', goal: { op: '>=', value: 0.95 } });
  return [printTable(`Classification, images/s: the service (pixels in, probabilities out) against one plain onnxruntime session on the preprocessed tensor; ratio = service / best session. ${notes.join('. ')}`, rows)];
}
