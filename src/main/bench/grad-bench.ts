import * as ort from 'onnxruntime-node';
import type { ModelInfo } from '../../shared/manifest';
import { GradientPool, gradientGraph } from '../core/ascent/gradient-pool';
import { GRAD_WEIGHTS_INPUT } from '../core/grad/backward';
import { prepareModelBytes } from '../core/models/prepare';
import { defaultParallelism, sessionOptions } from '../core/models/provider';
import { SHARED_MODELS, hasShared } from './models';
import { recordTarget, skipTarget } from './targets';
import { fmt, interleavedRates, printTable, rate } from './timing';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A deterministic batch in the model's input layout, and one target class per image. */
function inputs(info: ModelInfo, batch: number) {
  const spec = info.manifest.input;
  const per = spec.channels * spec.height * spec.width;
  const x = Float32Array.from({ length: batch * per }, (_, i) => ((i * 7919) % 255) / 255);
  const targets = Array.from({ length: batch }, (_, i) => i % info.manifest.classes);
  const K = info.manifest.classes + info.manifest.labelOffset;
  const w = new Float32Array(batch * K);
  targets.forEach((t, i) => (w[i * K + t + info.manifest.labelOffset] = 1));
  const dims = [batch, spec.channels, spec.height, spec.width];
  return { x, targets, feeds: { [spec.name]: new ort.Tensor('float32', x, dims) }, gradFeeds: { [spec.name]: new ort.Tensor('float32', x, dims), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [batch, K]) } };
}

/**
 * Input gradients (objective log-probability) as the product computes them: the gradient graph
 * of grad/backward.ts at the session options GradientPool uses (ascent/gradient-pool.ts), against
 * the forward of the same model at the same batch and threads, in interleaved rounds (medians).
 * Targets 2 of issue 15: LeNet's gradient service at batch 128 (2 workers x 1 thread, the batch
 * split between them, as `fool ascent` runs them), SqueezeNet's gradient cost in forwards at the
 * batch and threads of an ascent worker (8 classes, 1 thread).
 */
export async function gradientBench(quick: boolean): Promise<string[]> {
  if (!hasShared()) {
    console.log('gradients: skipped (needs ../shared/models)');
    skipTarget('2 lenet gradient', 'needs ../shared/models (Caffe LeNet)');
    skipTarget('2 squeezenet gradient', 'needs ../shared/models (SqueezeNet 1.0)');
    return [];
  }
  const rounds = quick ? 3 : 7;
  const rows: (string | number)[][] = [['model', 'batch', 'path', 'forward', 'forward + input gradient', 'gradient cost (x forward)']];
  const out: string[] = [];

  // LeNet, batch 128: sessions of 1 and 2 threads, and the pool of single-threaded workers.
  {
    const info = SHARED_MODELS.lenet();
    const batch = 128;
    const { bytes, level } = gradientGraph(info, 'log-probability');
    const fwdBytes = prepareModelBytes(info.path, { fastLrn: false }).bytes;
    const { x, targets, feeds, gradFeeds } = inputs(info, batch);
    const sessions = [];
    for (const threads of [1, 2]) {
      const f = await ort.InferenceSession.create(fwdBytes, sessionOptions('cpu', threads, level.level));
      const b = await ort.InferenceSession.create(bytes, sessionOptions('cpu', threads, level.level));
      sessions.push({ threads, f, b });
    }
    const workers = defaultParallelism('cpu').workers;
    const pool = await GradientPool.open(info, { objective: 'log-probability', workers });
    const fns = [...sessions.flatMap((s) => [() => s.f.run(feeds), () => s.b.run(gradFeeds)]), () => pool.gradient(batch, x, targets)] // gradient() reads x, keeps nothing;
    const r = (await interleavedRates(fns, rounds, quick ? 300 : 800)).map((v) => v * batch);
    for (const [i, s] of sessions.entries()) {
      rows.push(['lenet', batch, `one session, ${s.threads} thread(s)`, fmt(r[2 * i]), fmt(r[2 * i + 1]), (r[2 * i] / r[2 * i + 1]).toFixed(2)]);
      await s.f.release();
      await s.b.release();
    }
    const svc = r[4];
    rows.push(['lenet', batch, `gradient service (${workers} workers x 1 thread)`, '', fmt(svc), '']);
    await pool.close();
    console.error(`  lenet: gradient service ${fmt(svc)} images/s (graph level ${level.level})`);
    recordTarget({
      id: '2 lenet gradient',
      what: `LeNet input gradient, batch 128, images/s (the ascent's gradient service: ${workers} workers x 1 thread, median of ${rounds} interleaved rounds)`,
      value: svc,
      unit: 'images/s',
      goal: { op: '>=', value: 2, vs: 'gradient128' },
    });
  }

  // SqueezeNet: the gradient's cost in forwards, as one ascent worker runs it.
  {
    const info = SHARED_MODELS.squeezenet();
    const batch = 8;
    const { bytes, level } = gradientGraph(info, 'log-probability');
    const fwdBytes = prepareModelBytes(info.path, { fastLrn: false }).bytes;
    const { feeds, gradFeeds } = inputs(info, batch);
    const f = await ort.InferenceSession.create(fwdBytes, sessionOptions('cpu', 1, level.level));
    const b = await ort.InferenceSession.create(bytes, sessionOptions('cpu', 1, level.level));
    // Paired rounds: the ratio of each round (load that comes and goes hits both alike).
    await f.run(feeds);
    await b.run(gradFeeds);
    const ratios: number[] = [];
    const rf: number[] = [];
    const rb: number[] = [];
    for (let i = 0; i < (quick ? 3 : 5); i++) {
      rf.push((await rate(() => f.run(feeds), quick ? 500 : 1500, 2, false)) * batch);
      rb.push((await rate(() => b.run(gradFeeds), quick ? 500 : 1500, 2, false)) * batch);
      ratios.push(rf[i] / rb[i]);
    }
    await f.release();
    await b.release();
    const cost = median(ratios);
    rows.push(['squeezenet', batch, 'one session, 1 thread (an ascent worker)', fmt(median(rf)), fmt(median(rb)), cost.toFixed(2)]);
    console.error(`  squeezenet: gradient ${cost.toFixed(2)}x forward (graph level ${level.level})`);
    recordTarget({
      id: '2 squeezenet gradient',
      what: `SqueezeNet forward + input gradient / forward, batch 8, 1 thread (an ascent worker), median of ${ratios.length} paired rounds`,
      value: cost,
      unit: 'x forward',
      goal: { op: '<=', value: 2.5 },
    });
  }
  out.push(printTable('Input gradients, images/s (objective log-probability; graph level as chosen by models/graph-level.ts)', rows));
  return out;
}
