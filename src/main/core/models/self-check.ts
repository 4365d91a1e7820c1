import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputSpec, ManifestOverrides, ModelInfo, PresetName, SelfCheck } from '../../../shared/manifest';
import { loadMnist } from '../data/mnist';
import { resourcePath } from '../paths';
import { Classifier, type ClassifierOptions } from './classifier';
import { loadImageForModel } from './resize';
import { formatScale } from '../../../shared/manifest-flags';
import { PRESETS } from './presets';
import type { PixelBatch } from './image';
import { preprocess } from './preprocess';

/**
 * The preprocessing self-check: a model of a task we have labelled data for is scored as
 * registered; when the score is poor, every preset and channel order is tried on the same data
 * and the best is named with the flags that give it. Nothing here changes the model: only the
 * preprocessing varies, so one onnxruntime session serves every variant.
 */

const MNIST_N = 1000;
const MNIST_THRESHOLD = 0.9;
const PHOTOS_THRESHOLD = 0.6;

interface Photo {
  file: string;
  what: string;
  classes: number[];
}

/** One preprocessing to try: the input spec and how to ask for it on the command line. */
interface Variant {
  spec: InputSpec;
  flags: string;
  overrides: ManifestOverrides;
}

/** Which check fits a model, if any. */
export function checkKind(info: Pick<ModelInfo, 'manifest' | 'labels'>): 'mnist' | 'imagenet' | undefined {
  const m = info.manifest;
  if (m.input.channels === 1 && m.input.height === 28 && m.input.width === 28 && digitIndices(info.labels)) return 'mnist';
  if (m.input.channels === 3 && (m.classes === 1000 || m.classes === 1001)) return 'imagenet';
  return undefined;
}

/** Index of each digit 0..9 among the labels (an extra "fooling" class may sit anywhere), or undefined. */
function digitIndices(labels: string[]): number[] | undefined {
  const idx = Array.from({ length: 10 }, (_, d) => labels.findIndex((l) => l.trim() === String(d)));
  return idx.every((i) => i >= 0) ? idx : undefined;
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
}

/** The flags (and manifest overrides) that ask for this input spec: a preset and channel order when one matches, else the values. */
export function flagsFor(spec: InputSpec): { flags: string; overrides: ManifestOverrides } {
  for (const [name, p] of Object.entries(PRESETS) as [PresetName, (typeof PRESETS)[PresetName]][]) {
    if (p.channels !== spec.channels || Math.abs(p.scale - spec.scale) > 1e-9 || !sameNumbers(p.mean, spec.mean) || !sameNumbers(p.std, spec.std)) continue;
    if (p.resize !== spec.resize) continue;
    const other = spec.channels === 3 && spec.channelOrder !== p.channelOrder;
    return {
      flags: `--preset ${name}${other ? ` --channels ${spec.channelOrder.toLowerCase()}` : ''}`,
      overrides: { preset: name, ...(other ? { channels: spec.channelOrder === 'BGR' ? 'bgr' : 'rgb' } : {}) },
    };
  }
  const channels = spec.channels === 1 ? 'grey' : spec.channelOrder === 'BGR' ? 'bgr' : 'rgb';
  return {
    flags: `--channels ${channels} --scale ${formatScale(spec.scale)} --mean ${spec.mean.join(',')} --std ${spec.std.join(',')}`,
    overrides: { channels, scale: spec.scale, mean: spec.mean, std: spec.std, resize: spec.resize, ...(spec.resizeTo !== undefined ? { resizeTo: spec.resizeTo } : {}) },
  };
}

function variants(spec: InputSpec): Variant[] {
  const out: Variant[] = [];
  const add = (s: InputSpec) => {
    const { flags, overrides } = flagsFor(s);
    if (!out.some((v) => v.flags === flags)) out.push({ spec: s, flags, overrides });
  };
  add(spec);
  for (const p of Object.values(PRESETS)) {
    if (p.channels !== spec.channels) continue;
    const base = { ...spec, scale: p.scale, mean: p.mean, std: p.std, resize: p.resize, resizeTo: p.resizeTo?.(spec.height) };
    if (spec.channels === 1) add({ ...base, channelOrder: 'RGB' });
    else for (const order of ['RGB', 'BGR'] as const) add({ ...base, channelOrder: order });
  }
  if (spec.channels === 1) {
    // Other grey pipelines seen in the wild: Normalize((0.5,), (0.5,)), plain p/255, raw 0..255.
    for (const [scale, mean, std] of [
      [1 / 255, 0.5, 0.5],
      [1 / 255, 0, 1],
      [1, 0, 1],
    ]) {
      add({ ...spec, scale, mean: [mean], std: [std], resize: 'stretch', resizeTo: undefined });
    }
  }
  return out;
}

export interface SelfCheckOptions {
  classifier?: ClassifierOptions;
  /** Builds the command that registers the model with the given flags, for the message. */
  commandFor?: (flags: string) => string;
}

/** Runs the check that fits the model; undefined when none does (the model's task is unknown here). */
export async function selfCheck(info: ModelInfo, opts: SelfCheckOptions = {}): Promise<SelfCheck | undefined> {
  const kind = checkKind(info);
  if (!kind) return undefined;
  const c = await Classifier.open(info, { workers: 1, ...opts.classifier });
  try {
    const score = kind === 'mnist' ? await mnistScorer(info, c) : await photoScorer(info, c);
    // Every variant is scored (a few seconds even for VGG): a model can score well enough with the
    // wrong preprocessing (a LeNet fed p/256 instead of its torch normalisation still gets ~97%),
    // and only the comparison shows it.
    const all = variants(info.manifest.input);
    const tried: { flags: string; overrides: ManifestOverrides; n: number; accuracy: number; mass: number }[] = [];
    for (const v of all) tried.push({ flags: v.flags, overrides: v.overrides, ...(await score(v.spec)) });
    const first = tried[0];
    const n = first.n;
    const ranked = [...tried].sort((a, b) => b.accuracy - a.accuracy || b.mass - a.mass);
    const best = ranked[0];
    const threshold = kind === 'mnist' ? MNIST_THRESHOLD : PHOTOS_THRESHOLD;
    const clearlyBetter =
      best.flags !== first.flags &&
      (kind === 'mnist'
        ? best.accuracy - first.accuracy >= 0.01 && 1 - best.accuracy <= (1 - first.accuracy) / 2
        : best.accuracy > first.accuracy);
    const passed = first.accuracy >= threshold && !clearlyBetter;
    const what = kind === 'mnist' ? `${n.toLocaleString('en')} MNIST test digits right (top-1)` : `${n} ImageNet photos with the right class in the top 5`;
    const pct = (a: number) => `${(a * 100).toFixed(1)}%`;
    const base: SelfCheck = {
      dataset: kind === 'mnist' ? 'mnist-test-1000' : 'imagenet-photos',
      metric: kind === 'mnist' ? 'top-1' : 'top-5',
      n,
      accuracy: first.accuracy,
      threshold,
      passed,
      flags: first.flags,
      alternatives: ranked.map(({ flags, accuracy, overrides }) => ({ flags, accuracy, overrides })),
      message: `self-check: ${pct(first.accuracy)} of ${what} with ${first.flags}`,
      checkedAt: new Date().toISOString(),
    };
    if (passed) return base;
    let advice: string;
    if (!clearlyBetter || best.accuracy < threshold) {
      advice =
        kind === 'mnist'
          ? 'no preset or usual normalisation scores well either: check that this is an MNIST digit classifier (for another 28x28 task, e.g. Fashion-MNIST, this check does not apply: --no-check) and its output (--output, --output-kind)'
          : 'no preset or channel order scores well either: check the labels (standard ImageNet order?), --label-offset and the output';
      return { ...base, message: `${base.message}: below ${pct(threshold)}, the preprocessing or the labels look wrong; ${advice}` };
    }
    advice = `${pct(best.accuracy)} with ${best.flags}: register it so with ${opts.commandFor ? opts.commandFor(best.flags) : best.flags}`;
    return {
      ...base,
      message: `${base.message}${first.accuracy < threshold ? ` (below ${pct(threshold)})` : ''}, but ${advice}`,
    };
  } finally {
    await c.close();
  }
}

type Scorer = (spec: InputSpec) => Promise<{ n: number; accuracy: number; mass: number }>;

async function mnistScorer(info: ModelInfo, c: Classifier): Promise<Scorer> {
  const test = loadMnist('test');
  const n = Math.min(MNIST_N, test.n);
  const batch: PixelBatch = { n, height: 28, width: 28, channels: 1, data: test.images.subarray(0, n * 784) };
  const digits = digitIndices(info.labels)!;
  return async (spec) => {
    const probs = await c.classifyTensor(n, preprocess(batch, spec));
    let right = 0;
    let mass = 0;
    for (let i = 0; i < n; i++) {
      const row = probs.subarray(i * c.classes, (i + 1) * c.classes);
      let best = 0;
      for (let k = 1; k < 10; k++) if (row[digits[k]] > row[digits[best]]) best = k;
      if (best === test.labels[i]) right++;
      mass += row[digits[test.labels[i]]];
    }
    return { n, accuracy: right / n, mass: mass / n };
  };
}

async function photoScorer(info: ModelInfo, c: Classifier): Promise<Scorer> {
  const dir = resourcePath('check-images');
  const photos = (JSON.parse(readFileSync(join(dir, 'photos.json'), 'utf8')) as { photos: Photo[] }).photos;
  // 1001 classes: output 0 is "background" and the ImageNet classes follow.
  const shift = info.manifest.classes === 1001 ? 1 : 0;
  return async (spec) => {
    let hits = 0;
    let mass = 0;
    const images = await Promise.all(photos.map((p) => loadImageForModel(join(dir, p.file), spec)));
    const per = spec.height * spec.width * spec.channels;
    const data = new Float32Array(photos.length * per);
    images.forEach((im, i) => data.set(preprocess({ n: 1, ...im }, spec), i * per));
    const probs = await c.classifyTensor(photos.length, data);
    photos.forEach((p, i) => {
      const row = probs.subarray(i * c.classes, (i + 1) * c.classes);
      const top5 = Array.from(row.keys())
        .sort((a, b) => row[b] - row[a])
        .slice(0, 5);
      const want = p.classes.map((k) => k + shift);
      if (top5.some((k) => want.includes(k))) hits++;
      for (const k of want) mass += row[k] ?? 0;
    });
    return { n: photos.length, accuracy: hits / photos.length, mass: mass / photos.length };
  };
}
