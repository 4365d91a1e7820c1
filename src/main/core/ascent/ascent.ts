import { FoolError } from '../../../shared/errors';
import { limitProblem } from '../../../shared/limits';
import type { ModelInfo } from '../../../shared/manifest';
import { loadMnist } from '../data/mnist';
import type { Lab } from '../lab';
import { cpuCount } from '../models/provider';
import { GradientPool } from './gradient-pool';
import { DEFAULT_ASCENT, type AscentImageResult, type AscentProgress, type AscentSettings } from './protocol';

export interface AscentRequest {
  model: string;
  classes: number[];
  settings?: Partial<AscentSettings>;
  workers?: number;
}

export interface AscentOutcome {
  runId: number;
  results: (AscentImageResult & { label: string })[];
  seconds: number;
  /** False when cancelled: the classes reached so far, each as far as it got (the run is 'stopped'). */
  done: boolean;
}

/** Parses "0-9", "all", "3,7,12" or "random:20" (seeded) against a model's class count. */
export function parseClasses(spec: string, classes: number, seed = 1): number[] {
  const fail = () => new FoolError('BAD_INPUT', `cannot read the class list "${spec}"`, 'Use "all", a range like 0-9, a list like 3,7,12, or random:N');
  let out: number[];
  if (spec === 'all') out = Array.from({ length: classes }, (_, i) => i);
  else if (/^random:\d+$/.test(spec)) {
    const n = Math.min(classes, Number(spec.slice(7)));
    // A seeded shuffle, so "random:20" names the same classes every time for a seed.
    const idx = Array.from({ length: classes }, (_, i) => i);
    let s = seed >>> 0 || 1;
    for (let i = classes - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    out = idx.slice(0, n).sort((a, b) => a - b);
  } else {
    out = [];
    for (const part of spec.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
      if (!m) throw fail();
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (b < a) throw fail();
      for (let c = a; c <= b; c++) out.push(c);
    }
  }
  const bad = out.find((c) => c >= classes);
  if (bad !== undefined) throw new FoolError('BAD_INPUT', `class ${bad} is out of range: the model has ${classes} classes`, `Use classes 0..${classes - 1}`);
  if (out.length === 0) throw fail();
  return [...new Set(out)];
}

/** The mean image the ascent starts from, in pixel space: MNIST's for 28x28 grey models, else the manifest's mean colour. */
export function meanImage(info: ModelInfo): Float32Array {
  const s = info.manifest.input;
  const plane = s.height * s.width;
  const out = new Float32Array(plane * s.channels);
  if (s.channels === 1 && s.height === 28 && s.width === 28) {
    const train = loadMnist('train');
    for (let i = 0; i < train.n; i++) for (let p = 0; p < 784; p++) out[p] += train.images[i * 784 + p];
    for (let p = 0; p < 784; p++) out[p] /= train.n;
    return out;
  }
  const src = s.channels === 3 && s.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let ch = 0; ch < s.channels; ch++) {
    const mean = s.mean.length === 1 ? s.mean[0] : s.mean[ch];
    const v = Math.min(255, Math.max(0, mean / s.scale));
    for (let p = 0; p < plane; p++) out[p * s.channels + src[ch]] = v;
  }
  return out;
}

/** The same ranges as the command line's parsers: a setting outside them is refused before any work. */
function checkSettings(s: AscentSettings, workers: number | undefined): void {
  const fail = (problem: string) => new FoolError('BAD_INPUT', problem, 'Leave it out for the default, or pass a value in that range');
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 1_000_000) throw fail(`steps must be a whole number from 1 to 1000000, got ${s.steps}`);
  if (!(s.stepSize > 0 && s.stepSize <= 255)) throw fail(`the step size must be above 0 and at most 255 (pixel units), got ${s.stepSize}`);
  if (!(s.decay >= 0 && s.decay < 1)) throw fail(`decay must be in [0, 1), got ${s.decay}`);
  if (!(s.blurSigma >= 0 && s.blurSigma <= 100)) throw fail(`the blur sigma must be from 0 (off) to 100 pixels, got ${s.blurSigma}`);
  if (!(s.target > 0 && s.target < 1)) throw fail(`target must be in (0, 1), got ${s.target}`);
  const bad = workers === undefined ? null : limitProblem('workers', workers);
  if (bad) throw fail(`workers ${bad}, got ${workers}`);
}

/**
 * Fooling by gradient ascent: for each target class, from the mean image plus noise, follow the
 * gradient of the class's (log-)probability in input space. Results are stored as an 'ascent' run
 * (one champion per class, with the per-step confidence trace) so the gallery and the experiments
 * treat them like evolved images.
 */
export async function runAscent(
  lab: Lab,
  req: AscentRequest,
  onProgress?: (done: number, total: number, best: number[]) => void,
  signal?: AbortSignal,
): Promise<AscentOutcome> {
  const info = lab.models.get(req.model);
  const settings: AscentSettings = { ...DEFAULT_ASCENT, ...req.settings };
  checkSettings(settings, req.workers);
  const classes = req.classes;
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= info.labels.length) {
      throw new FoolError('BAD_INPUT', `class ${c} is out of range: ${req.model} has ${info.labels.length} classes`, `Use classes 0..${info.labels.length - 1}`);
    }
  }
  const workers = Math.max(1, Math.min(req.workers ?? cpuCount(), classes.length));
  const t0 = performance.now();
  const pool = await GradientPool.open(info, { objective: settings.objective, workers, meanImage: meanImage(info) });
  let results: AscentImageResult[];
  try {
    // Classes in small groups so that finished ones free their worker for the rest.
    const groupSize = Math.max(1, Math.min(8, Math.ceil(classes.length / workers)));
    const groups: number[][] = [];
    for (let i = 0; i < classes.length; i += groupSize) groups.push(classes.slice(i, i + groupSize));
    const best = new Map<number, number>();
    let finished = 0;
    // Groups are handed out as workers free up (not all queued at once), so a cancel leaves the
    // groups not yet begun undone; those running stop before their next step (shared flag).
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(stop, 0, 1);
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();
    const parts: AscentImageResult[][] = [];
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: workers }, async () => {
          // Each worker's first group always starts, so even an early cancel stores something.
          for (let first = true; next < groups.length && (first || !signal?.aborted); first = false) {
            const g = groups[next++];
            const r = await pool.ascend({ type: 'ascent', classes: g, settings, stop }, (v) => {
              const p = v as AscentProgress;
              g.forEach((c, i) => best.set(c, p.probs[i]));
              onProgress?.(finished, classes.length, [...best.values()]);
            });
            parts[groups.indexOf(g)] = r;
            finished += g.length;
            onProgress?.(finished, classes.length, [...best.values()]);
          }
        }),
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A group that failed leaves the others running: they stop at their next step, so that
      // closing the pool below does not wait for whole groups (workers are never terminated).
      Atomics.store(stop, 0, 1);
    }
    results = parts.filter((p) => p !== undefined).flat();
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const done = !signal?.aborted;
  const runId = storeAscent(lab, req.model, info, settings, results, seconds, done);
  return { runId, seconds, done, results: results.map((r) => ({ ...r, label: info.labels[r.class] })) };
}

function storeAscent(lab: Lab, model: string, info: ModelInfo, settings: AscentSettings, results: AscentImageResult[], seconds: number, done: boolean): number {
  const s = info.manifest.input;
  const runId = lab.runs.create({ kind: 'ascent', model, encoding: 'gradient', seed: settings.seed, settings: { ...settings, classes: results.map((r) => r.class) }, labels: info.labels });
  const conf = results.map((r) => r.confidence).sort((a, b) => a - b);
  const k = conf.length;
  const median = k % 2 ? conf[(k - 1) / 2] : (conf[k / 2 - 1] + conf[k / 2]) / 2;
  const evaluations = results.reduce((a, r) => a + r.trace.length, 0);
  lab.runs.commitGeneration(runId, {
    individuals: results.map((r) => ({
      id: r.class,
      parentId: null,
      generation: r.steps,
      genome: r.pixels,
      won: [[r.class, r.confidence]],
      top: r.top,
      extra: { width: s.width, height: s.height, channels: s.channels, trace: r.trace, stepsTo: r.stepsTo },
    })),
    champions: results.map((r) => ({ class: r.class, individualId: r.class, confidence: r.confidence })),
    stats: {
      generation: Math.max(...results.map((r) => r.steps)),
      median,
      mean: conf.reduce((a, b) => a + b, 0) / k,
      max: conf[k - 1],
      min: conf[0],
      occupied: k,
      at99: conf.filter((c) => c >= 0.99).length,
      at9999: conf.filter((c) => c >= 0.9999).length,
      evaluationsPerSecond: seconds > 0 ? evaluations / seconds : 0,
      seconds,
    },
    evaluations,
  });
  lab.runs.setStatus(runId, done ? 'finished' : 'stopped');
  return runId;
}
