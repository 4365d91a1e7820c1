import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GRAD_WEIGHTS_INPUT, buildGradientModel } from '../core/grad/backward';
import { encodeModel } from '../core/models/onnx-graph';
import { loadMnist } from '../core/data/mnist';
import { buildLenet, initLenetWeights, lenetParams, LENET_OUTPUT } from '../core/train/lenet';
import { buildLenetTrainGraph, TRAIN_WEIGHTS } from '../core/train/train-graph';
import { settingsFor, trainLenet, type TrainSettings } from '../core/train/trainer';
import { recordTarget, skipTarget } from './targets';
import { TORCH_ANCHOR } from './torch';
import { fmt, printTable } from './timing';

/** PyTorch 1.13 + OpenBLAS, 2 threads, one LeNet epoch on this kind of machine (the dated anchor). */
const TORCH_EPOCH_S = TORCH_ANCHOR.figures.trainEpochSeconds;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];

/**
 * Seconds of each epoch's batches (without the test-set evaluation), for `epochs` epochs of
 * `settings`; the first is a warm-up (worker start, session creation) and is left out.
 */
async function epochSeconds(settings: TrainSettings, epochs: number): Promise<number[]> {
  const seconds: number[] = [];
  await trainLenet(
    { ...settings, epochs },
    {
      testLimit: 500,
      // imagesPerSecond counts from the epoch's start: at its last batch, the epoch's time.
      onProgress: (p) => void (p.batch === p.batches && seconds.push((p.batch * settings.batch) / p.imagesPerSecond)),
    },
  );
  return seconds.slice(1);
}

interface KernelEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

/** Median milliseconds per run of each group of kernels (`group` names a node's group), over `runs` runs. */
async function profileGroups(model: Uint8Array, feeds: Record<string, ort.Tensor>, runs: number, group: (node: string, op: string) => string): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'fool-train-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'p'),
    });
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) return new Map();
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as KernelEvent[];
    // Per run, the sum of each group's kernels; the first fifth of the runs warm up.
    const perRun = new Map<string, number[]>();
    let run = -1;
    for (const e of events) {
      if (e.cat === 'Session' && e.name === 'model_run') continue;
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      const g = group(node, e.args?.op_name ?? '?');
      if (g === 'FIRST') run++;
      const a = perRun.get(g) ?? [];
      a[run] = (a[run] ?? 0) + e.dur / 1000;
      perRun.set(g, a);
    }
    const out = new Map<string, number>();
    for (const [g, a] of perRun) out.set(g, median(a.slice(Math.floor(runs / 5)).map((v) => v ?? 0)));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where one worker's share of a batch spends its time: the training graph by stage against the
 * generic gradient graph (core/grad) of the same LeNet by operator, same images, one thread.
 */
async function perOpTables(n: number, runs: number): Promise<string[]> {
  const params = lenetParams(10);
  const weights = initLenetWeights(10, 1);
  const mnist = loadMnist('train');
  const x = Float32Array.from(mnist.images.subarray(0, n * 784), (p) => p / 256);
  const w = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) w[i * 10 + mnist.labels[i]] = -1 / 64;
  const weightFeeds: Record<string, ort.Tensor> = {};
  for (const p of params) weightFeeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!, p.dims);

  // The first node of each graph marks a new run.
  let first = '';
  const stageOf = (node: string) => {
    if (!first) first = node;
    if (node === first) return 'FIRST';
    const slash = node.indexOf('/');
    return slash > 0 && !node.startsWith('fused') ? node.slice(0, slash) : 'fused/other';
  };
  const ours = await profileGroups(buildLenetTrainGraph(n, 10), { ...weightFeeds, data: new ort.Tensor('float32', x, [n, 784]), [TRAIN_WEIGHTS]: new ort.Tensor('float32', w, [n, 10]) }, runs, stageOf);
  const generic = buildGradientModel(buildLenet(weights, { classes: 10, batch: n }), { output: LENET_OUTPUT, outputKind: 'probabilities', objective: 'log-probability', wrt: params.map((p) => p.name) });
  const wrt = new Set(params.map((p) => p.name));
  generic.graph!.initializer = (generic.graph!.initializer ?? []).filter((t) => !wrt.has(t.name ?? ''));
  let firstGeneric = '';
  const opOf = (node: string, op: string) => {
    if (!firstGeneric) firstGeneric = node;
    return node === firstGeneric ? 'FIRST' : node.startsWith('grad_') ? `${op} (backward)` : op;
  };
  const theirs = await profileGroups(encodeModel(generic), { ...weightFeeds, data: new ort.Tensor('float32', x, [n, 1, 28, 28]), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [n, 10]) }, runs, opOf);

  const table = (title: string, m: Map<string, number>) => {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const rows: (string | number)[][] = [['part', 'ms per run', 'share']];
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1])) rows.push([k === 'FIRST' ? '(first node)' : k, v.toFixed(3), `${((100 * v) / total).toFixed(1)}%`]);
    rows.push(['total (kernels)', total.toFixed(2), '100%']);
    return printTable(title, rows);
  };
  return [
    table(`Training step of one worker (${n} images, 1 thread), by stage: median kernel time per run`, ours),
    table(`The generic gradient graph (core/grad) of the same LeNet, same ${n} images, by operator`, theirs),
  ];
}

/**
 * One epoch of LeNet training on the 60,000 MNIST images, batch 64, Caffe's SGD: the default
 * (2 workers x 1 thread) over 3 epochs after a warm-up one (median), against the PyTorch anchor;
 * one worker over a quarter epoch for the parallel speed-up, and one session with 2 threads over a
 * quarter epoch (the other way to use both cores). Target 1 of issue 15: <= 8 s.
 */
export async function trainingBench(quick: boolean): Promise<string[]> {
  const rows: (string | number)[][] = [['work', 'seconds per epoch', 'images/s', `vs PyTorch 1.13 anchor (${TORCH_EPOCH_S} s, 2 threads)`]];
  const row = (what: string, s: number) => rows.push([what, s.toFixed(2), fmt(60000 / s), `${(TORCH_EPOCH_S / s).toFixed(2)}x`]);
  const base = settingsFor('sgd', 1, 1);
  let twoWorkers: number;
  if (quick) {
    // 100 batches a epoch, 2 epochs: the second's time, scaled to 60,000 images.
    const [s] = await epochSeconds({ ...base, trainLimit: 6400 }, 2);
    twoWorkers = (s * 60000) / 6400;
    row('2 workers x 1 thread (quick: 6,400 images, scaled)', twoWorkers);
    skipTarget('1 training', '--quick times 6,400 images, not a whole epoch');
  } else {
    const s = await epochSeconds(base, 4);
    twoWorkers = median(s);
    row(`2 workers x 1 thread (default), median of ${s.length} epochs (${s.map((v) => v.toFixed(2)).join(', ')})`, twoWorkers);
    recordTarget({ id: '1 training', what: 'LeNet, one 60,000-image epoch, batch 64', value: twoWorkers, unit: 's', goal: { op: '<=', value: 8 } });
  }
  const part = quick ? 6400 : 15000;
  const partName = quick ? '6,400' : '15,000';
  const [one] = await epochSeconds({ ...base, workers: 1, trainLimit: part }, 2);
  const oneWorker = (one * 60000) / part;
  row(`1 worker x 1 thread (${partName} images, scaled)`, oneWorker);
  rows.push(['speed-up of 2 workers', (oneWorker / twoWorkers).toFixed(2) + 'x', '', '']);
  // The alternative to data parallel workers: one session on whole batches, onnxruntime's 2 threads
  // sharing each operator (its thread pool spins: only a quiet machine measures it fairly).
  const [pooled] = await epochSeconds({ ...base, workers: 1, threads: 2, trainLimit: part }, 2);
  row(`1 worker x 2 onnxruntime threads (${partName} images, scaled)`, (pooled * 60000) / part);
  const out = [printTable('Training: LeNet, SGD, batch 64 (Caffe lenet_solver)', rows)];
  out.push(...(await perOpTables(32, quick ? 30 : 150)));
  return out;
}
