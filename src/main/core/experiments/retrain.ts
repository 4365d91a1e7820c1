import type { RetrainRunResult, RetrainIteration, RetrainResult } from '../../../shared/experiment-results';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoding } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { EvolutionRun } from '../evolution/run';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import { encodeModel } from '../models/onnx-graph';
import { ExperimentStore } from '../store/experiments';
import { buildLenet, LENET_PIXELS, type LenetWeights } from '../train/lenet';
import { loadExtraClassFolder, settingsFor, trainLenet } from '../train/trainer';
import { median } from './images';
import { foolingImages } from './fooling-set';

/**
 * The retraining loop of paper section 3.3 on MNIST. DNN_1 is a given model (the shipped LeNet);
 * each iteration evolves K runs against DNN_i, adds their fooling images (the first and the last
 * champion of every digit cell) to an 11th class "fooling", trains DNN_{i+1} (Caffe's LeNet,
 * from scratch) on MNIST plus that class, and evolves against it on the 10 digit classes only.
 * The fooling class accumulates over iterations.
 *
 * "Digit classes only": DNN_{i+1} is registered with its fooling output first and label offset 1,
 * so the evolution sees the 10 digits' probabilities of the 11-way softmax (the fooling output is
 * dropped, not renormalised): an image gains nothing by looking like the fooling class.
 */

export interface RetrainParams {
  model: string;
  iterations: number;
  runsPerIteration: number;
  generations: number;
  batch: number;
  encoding: Encoding;
  seed: number;
  /** Training epochs of each DNN_i (i >= 2) on MNIST + the fooling class. */
  epochs: number;
  /** Only the first n MNIST training / test images (quick checks); 0 = all. */
  trainLimit: number;
  testLimit: number;
  /** A folder of 28x28 fooling images to add to the fooling class from the start (optional). */
  foolingImages?: string;
  /** Where the trained networks are written. */
  workDir: string;
}




export interface RetrainProgress {
  iteration: number;
  step: 'evaluate' | 'evolve' | 'train';
  message: string;
}

const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));

/** Everything checked before any work: the model, the numbers, the extra folder, the work folder. */
export async function planRetrain(lab: Lab, p: RetrainParams): Promise<{ seedImages: Uint8Array[] }> {
  for (const [k, v, min] of [
    ['iterations', p.iterations, 1],
    ['runs per iteration', p.runsPerIteration, 1],
    ['generations', p.generations, 1],
    ['batch', p.batch, 1],
    ['epochs', p.epochs, 1],
    ['train limit', p.trainLimit, 0],
    ['test limit', p.testLimit, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new FoolError('BAD_INPUT', `${k} must be an integer >= ${min}, got ${v}`, 'Check the options given');
  }
  const info = lab.models.get(p.model);
  const m = info.manifest;
  if (m.input.width !== 28 || m.input.height !== 28 || m.input.channels !== 1 || info.labels.length !== 10 || info.labels.some((l, i) => l.trim() !== DIGITS[i])) {
    throw new FoolError(
      'MISMATCH',
      `model "${p.model}" is not an MNIST digit classifier (it takes ${m.input.width}x${m.input.height}x${m.input.channels} images with ${info.labels.length} classes); the retraining loop trains LeNets on MNIST`,
      'Start from an MNIST model such as lenet-mnist; for ImageNet models export the fooling images with "fool dataset export" and fine-tune elsewhere',
    );
  }
  let seedImages: Uint8Array[] = [];
  if (p.foolingImages) {
    // An ImageFolder export (DIR/fooling/*.png) or a flat folder of images.
    const dir = existsSync(join(p.foolingImages, 'fooling')) && statSync(join(p.foolingImages, 'fooling')).isDirectory() ? join(p.foolingImages, 'fooling') : p.foolingImages;
    seedImages = await loadExtraClassFolder(dir);
  }
  try {
    mkdirSync(p.workDir, { recursive: true });
  } catch (e) {
    throw new FoolError('IO', `cannot create ${p.workDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Pass --work-dir a folder you can write to');
  }
  return { seedImages };
}

/** Column `perm[j]` of the last layer becomes output j (ip2_W is [500, K] in MatMul layout). */
export function permuteOutputs(weights: LenetWeights, perm: number[]): LenetWeights {
  const K = perm.length;
  const W = weights.get('ip2_W')!;
  const b = weights.get('ip2_b')!;
  const rows = W.length / K;
  const W2 = new Float32Array(W.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) W2[r * K + j] = W[r * K + perm[j]];
  const out = new Map(weights);
  out.set('ip2_W', W2);
  out.set('ip2_b', Float32Array.from(perm, (k) => b[k]));
  return out;
}

function runResult(lab: Lab, runId: number, seed: number): RetrainRunResult {
  const champs = lab.runs.champions(runId).filter((c) => c.class < 10);
  const first = [...lab.runs.firstGenerationsAtLeast(runId, 0.9999)].filter(([c]) => c < 10).map(([, g]) => g);
  return {
    runId,
    seed,
    median: median(champs.map((c) => c.confidence)),
    generationsTo9999: first.length === 10 ? Math.max(...first) : null,
  };
}

/** Median that counts "never" (null) as larger than any number. */
function medianOrNever(xs: (number | null)[]): number | null {
  const s = xs.map((x) => x ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const m = s.length >> 1;
  const v = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return Number.isFinite(v) ? v : null;
}

export async function runRetrain(
  lab: Lab,
  p: RetrainParams,
  opts: { classifier?: ClassifierOptions; onProgress?: (e: RetrainProgress) => void; onCreated?: (id: number) => void; signal?: AbortSignal } = {},
): Promise<{ id: number; result: RetrainResult }> {
  const { seedImages } = await planRetrain(lab, p);
  const store = new ExperimentStore(lab.db);
  const id = store.create('retrain', p);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const result: RetrainResult = { iterations: [], done: false, seconds: 0 };
  const fooling: Uint8Array[] = [...seedImages];
  let model = p.model;
  let trainSeconds = 0;
  const say = (iteration: number, step: RetrainProgress['step'], message: string) => opts.onProgress?.({ iteration, step, message });

  say(1, 'evaluate', `DNN_1 = ${model}: MNIST test accuracy`);
  const e1 = await lab.evalMnist(model, opts.classifier);
  let acc = { accuracy: e1.accuracy, n: e1.n };
  for (let it = 1; it <= p.iterations; it++) {
    const runs: RetrainRunResult[] = [];
    const curves: number[][] = [];
    for (let k = 0; k < p.runsPerIteration; k++) {
      const seed = p.seed + (it - 1) * p.runsPerIteration + k;
      say(it, 'evolve', `DNN_${it}: run ${k + 1}/${p.runsPerIteration} (${p.encoding}, ${p.generations} generations, seed ${seed})`);
      const evo = EvolutionRun.create(lab, { model, encoding: p.encoding, generations: p.generations, batch: p.batch, seed });
      const run = await evo.run({ classifier: opts.classifier, signal: opts.signal });
      // Cancelled: the iterations finished so far are the result (done: false); the stopped run stays resumable.
      if (run.stopped) {
        result.seconds = (performance.now() - t0) / 1000;
        store.setResult(id, result);
        return { id, result };
      }
      runs.push(runResult(lab, evo.runId, seed));
      curves.push(lab.runs.stats(evo.runId).map((s) => s.median));
    }
    const allChamps = runs.flatMap((r) => lab.runs.champions(r.runId).filter((c) => c.class < 10).map((c) => c.confidence));
    const gens = Math.max(...curves.map((c) => c.length));
    result.iterations.push({
      iteration: it,
      model,
      testAccuracy: acc.accuracy,
      testImages: acc.n,
      foolingImages: it === 1 ? 0 : fooling.length,
      trainSeconds,
      runs,
      medianConfidence: median(allChamps),
      generationsTo9999: medianOrNever(runs.map((r) => r.generationsTo9999)),
      medianByGeneration: Array.from({ length: gens }, (_, g) => median(curves.filter((c) => g < c.length).map((c) => c[g]))),
    });
    result.seconds = (performance.now() - t0) / 1000;
    store.setResult(id, result);
    if (it === p.iterations) break;

    // DNN_{it+1}: MNIST + every fooling image so far as class 10.
    for (const im of foolingImages(lab, runs.map((r) => r.runId), { classes: new Set(DIGITS.map(Number)) })) {
      if (im.image.width * im.image.height * im.image.channels !== LENET_PIXELS) throw new FoolError('INTERNAL', `run ${im.runId} rendered ${im.image.width}x${im.image.height} images, not 28x28 grey`);
      fooling.push(im.image.data);
    }
    say(it + 1, 'train', `DNN_${it + 1}: training LeNet on MNIST + ${fooling.length} fooling images, ${p.epochs} epoch(s)`);
    const settings = settingsFor('sgd', p.seed + it, p.epochs, { trainLimit: p.trainLimit });
    const tr = await trainLenet(settings, { extraImages: fooling, testLimit: p.testLimit });
    trainSeconds = tr.seconds;
    acc = { accuracy: tr.testAccuracy, n: p.testLimit > 0 ? Math.min(p.testLimit, 10000) : 10000 };
    model = await registerDnn(lab, p, id, it + 1, permuteOutputs(tr.weights, [10, ...DIGITS.map(Number)]), tr.testAccuracy, fooling.length);
  }
  result.done = true;
  result.seconds = (performance.now() - t0) / 1000;
  store.setResult(id, result);
  return { id, result };
}

/** Writes DNN_i (fooling output first) and registers it with the digits and label offset 1. */
async function registerDnn(lab: Lab, p: RetrainParams, id: number, i: number, weights: LenetWeights, accuracy: number, foolingCount: number): Promise<string> {
  const name = `retrain${id}-dnn${i}`;
  const file = join(p.workDir, `${name}.onnx`);
  const labels = join(p.workDir, `${name}.labels.txt`);
  writeFileSync(file, encodeModel(buildLenet(weights, { classes: 11 })));
  writeFileSync(labels, DIGITS.join('\n') + '\n');
  const description = `DNN_${i} of retraining experiment ${id}: LeNet on MNIST + ${foolingCount} fooling images (output 0 = fooling, dropped); test accuracy ${(accuracy * 100).toFixed(2)}%`;
  await lab.models.add(file, { name, preset: 'mnist', labels, labelOffset: 1, description });
  return name;
}

export type { RetrainRunResult, RetrainIteration, RetrainResult };
