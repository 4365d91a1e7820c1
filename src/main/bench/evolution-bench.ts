import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvolutionSettingsSchema, type Genome } from '../../shared/engine';
import { CppnReferenceRenderer } from '../core/engine/cppn-render-reference';
import { Renderer, renderOptions } from '../core/engine/render';
import { Scheduler } from '../core/engine/scheduler';
import { Evaluator } from '../core/evolution/evaluator';
import { EvolutionRun, loadArchive } from '../core/evolution/run';
import { Lab } from '../core/lab';
import { Classifier } from '../core/models/classifier';
import { cpuCount } from '../core/models/provider';
import { hasShared, sharedDir } from './models';
import { recordTarget, skipTarget } from './targets';
import { fmt, printTable } from './timing';

function tempLab(): { lab: Lab; dispose(): void } {
  const path = join(tmpdir(), `fool-bench-${process.pid}-${Date.now()}.db`);
  const lab = new Lab(path);
  return {
    lab,
    dispose: () => {
      lab.close();
      for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
      rmSync(path.replace(/\.db$/, '.models'), { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The candidates the run's next generation will evaluate (same seed, same archive => same batch). */
function nextCandidates(lab: Lab, runId: number): Genome[] {
  const run = lab.runs.get(runId);
  const settings = EvolutionSettingsSchema.parse(run.settings);
  const scheduler = new Scheduler({ settings: { ...settings, generations: run.lastGeneration + 1 }, seed: run.seed, numClasses: run.classes, lastGeneration: run.lastGeneration, archive: loadArchive(lab, run) });
  return scheduler.ask().map((c) => c.genome);
}

/**
 * The MNIST job as a user runs it (`fool evolve --model lenet-mnist --encoding cppn`): worker
 * start-up included, median of `reps` runs (the same seed: every run must end the same).
 */
async function mnistRuns(lab: Lab, generations: number, reps: number): Promise<{ runId: number; row: (string | number)[]; wall: number }> {
  const walls: number[] = [];
  const ends: string[] = [];
  let runId = 0;
  for (let r = 0; r < reps; r++) {
    const evo = EvolutionRun.create(lab, { model: 'lenet-mnist', encoding: 'cppn', generations, seed: 1 });
    const t0 = performance.now();
    await evo.run();
    walls.push((performance.now() - t0) / 1000);
    const s = lab.runs.stats(evo.runId).at(-1)!;
    ends.push(JSON.stringify([s.median, s.mean, s.at9999, s.at99]));
    runId = evo.runId;
  }
  const last = lab.runs.stats(runId).at(-1)!;
  const wall = median(walls);
  return {
    runId,
    wall,
    row: [
      generations,
      reps,
      `${wall.toFixed(2)} (${Math.min(...walls).toFixed(2)}-${Math.max(...walls).toFixed(2)})`,
      fmt(((generations + 1) * 200) / wall),
      `${(last.median * 100).toFixed(5)}%`,
      `${last.at9999}/10`,
      new Set(ends).size === 1 ? 'yes' : 'NO',
    ],
  };
}

/**
 * 28x28 CPPN rendering on one thread: the 200 children of the final MNIST archive (what a late
 * generation renders), the lab's renderer against the reference renderer (the original
 * interpreter, cppn-render-reference.ts), interleaved, median of 5 rounds of >= 0.4 s each.
 */
function renderThroughput(lab: Lab, runId: number): (string | number)[] {
  const run = lab.runs.get(runId);
  const opts = renderOptions(EvolutionSettingsSchema.parse(run.settings));
  const genomes = nextCandidates(lab, runId).map((g) => (g.encoding === 'cppn' ? g.cppn : null)).filter((g) => g !== null);
  const out = new Uint8Array(opts.width * opts.height * opts.channels);
  const fast = new Renderer(opts);
  const reference = new CppnReferenceRenderer(opts);
  const rate = (render: (g: (typeof genomes)[number]) => void): number => {
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 400) {
      for (const g of genomes) render(g);
      images += genomes.length;
    }
    return images / ((performance.now() - t0) / 1000);
  };
  const f: number[] = [];
  const r: number[] = [];
  rate((g) => fast.renderCppn(g, out)); // warm-up
  rate((g) => reference.renderCppn(g, out));
  for (let k = 0; k < 5; k++) {
    f.push(rate((g) => fast.renderCppn(g, out)));
    r.push(rate((g) => reference.renderCppn(g, out)));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [`${opts.width}x${opts.height} grey`, genomes.length, mean(genomes.map((g) => g.nodes.length)).toFixed(1), fmt(median(f)), fmt(median(r)), `${(median(f) / median(r)).toFixed(2)}x`];
}

interface Overhead {
  row: (string | number)[];
  ratio: number;
}

/**
 * The loop's overhead on `n` images per generation, `reps` repetitions interleaved. Each repetition
 * resumes the run for two generations and times the second (`loopSeconds`: from the first one's
 * commit to its own: render + classify pipeline, archive, database commit; its ask overlapped the
 * first one's commit, as every ask does in a run), whose workers are warm like those of any generation but a
 * run's first. Just before, the same candidates are rendered alone and classified alone by warm pools
 * of the same sizes: the bench plays the first of the two generations itself (same seed, same
 * classifier => same archive => the very candidates the run then evaluates; checked against the
 * run's statistics). The ratio is taken per repetition; the median is reported.
 */
async function overhead(lab: Lab, model: string, n: number, reps: number): Promise<Overhead> {
  // Generation 0 (random genomes, at most 100) only seeds the archive; then n children a generation.
  const stop = new AbortController();
  const evo = EvolutionRun.create(lab, { model, encoding: 'cppn', generations: 1, seed: 1, overrides: { initSize: Math.min(n, 100), batchSize: n } });
  await evo.run({ signal: stop.signal, onGeneration: () => stop.abort() });
  const settings = EvolutionSettingsSchema.parse(lab.runs.get(evo.runId).settings);
  const classifier = await Classifier.open(lab.models.get(model));
  const evaluator = await Evaluator.open(classifier, renderOptions(settings), Math.max(1, Math.min(cpuCount(), 8)));
  const render: number[] = [];
  const classify: number[] = [];
  const loop: number[] = [];
  const ratios: number[] = [];
  let same = true;
  try {
    const timeAlone = async (genomes: Genome[]) => {
      const t0 = performance.now();
      const parts = await evaluator.renderOnly(genomes);
      const t1 = performance.now();
      const pixels = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        pixels.set(p, o);
        o += p.length;
      }
      const t2 = performance.now();
      await classifier.classify({ n: genomes.length, height: settings.height, width: settings.width, channels: settings.channels, data: pixels });
      return { render: (t1 - t0) / 1000, classify: (performance.now() - t2) / 1000 };
    };
    await timeAlone(nextCandidates(lab, evo.runId).slice(0, 16)); // warm-up
    for (let r = 0; r < reps; r++) {
      const run = lab.runs.get(evo.runId);
      const target = run.lastGeneration + 2;
      const scheduler = new Scheduler({ settings: { ...settings, generations: target }, seed: run.seed, numClasses: run.classes, lastGeneration: run.lastGeneration, archive: loadArchive(lab, run) });
      const played = scheduler.tell(await evaluator.evaluate(scheduler.ask().map((c) => c.genome)));
      const genomes = scheduler.ask().map((c) => c.genome);
      const alone = await timeAlone(genomes);
      let loopS = Number.NaN;
      await EvolutionRun.resume(lab, evo.runId, target).run({ onGeneration: (g) => (g.generation === target ? (loopS = g.loopSeconds) : undefined) });
      const stored = lab.runs.stats(evo.runId).find((s) => s.generation === played.generation);
      if (stored?.median !== played.stats.median || stored.mean !== played.stats.mean) same = false;
      render.push(alone.render);
      classify.push(alone.classify);
      loop.push(loopS);
      ratios.push(loopS / (alone.render + alone.classify));
    }
  } finally {
    await evaluator.close();
    await classifier.close();
  }
  const ratio = median(ratios);
  return {
    ratio,
    row: [model, n, reps, fmt(n / median(render)), fmt(n / median(classify)), fmt(n / median(loop)), `${ratio.toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(', ')})`, same ? 'yes' : 'NO'],
  };
}

export async function evolutionBench(quick: boolean): Promise<string[]> {
  const out: string[] = [];
  const { lab, dispose } = tempLab();
  try {
    const generations = quick ? 50 : 200;
    const mnist = await mnistRuns(lab, generations, quick ? 1 : 3);
    out.push(
      printTable(`MNIST CPPN on the shipped LeNet, ${generations} generations x 200 images (the original: about 5 minutes on 4 cores)`, [
        ['generations', 'runs', 'wall s, median (min-max), worker start-up included', 'images/s', 'median at the end', 'classes at >= 99.99%', 'same result every run'],
        mnist.row,
      ]),
    );
    if (quick) skipTarget('4 mnist cppn', `--quick runs ${generations} generations once, not 200 three times`);
    else recordTarget({ id: '4 mnist cppn', what: 'MNIST CPPN, 200 generations x 200 images, wall s (median of 3 runs)', value: mnist.wall, unit: 's', goal: { op: '<=', value: 4 } });

    out.push(
      printTable('CPPN rendering, one thread: the 200 children of the final MNIST archive, this renderer against the reference interpreter', [
        ['image', 'genomes', 'nodes per genome', 'images/s', 'reference images/s', 'speed-up'],
        renderThroughput(lab, mnist.runId),
      ]),
    );

    const reps = 3;
    const rows: (string | number)[][] = [['model', 'images per generation', 'repetitions', 'render alone img/s', 'classify alone img/s', 'whole loop img/s', 'loop / (render + classify): median (each)', 'same candidates']];
    rows.push((await overhead(lab, 'lenet-mnist', quick ? 200 : 800, reps)).row);
    if (hasShared()) {
      await lab.models.add(join(sharedDir(), 'models/squeezenet1.0/squeezenet1.0.onnx'), { name: 'squeezenet', preset: 'caffe-imagenet', labels: join(sharedDir(), 'models/squeezenet1.0/synset_words.txt') });
      const n = quick ? 100 : 800;
      const squeeze = await overhead(lab, 'squeezenet', n, reps);
      rows.push(squeeze.row);
      if (quick) skipTarget('4 squeezenet loop', '--quick measures 100 images a generation; the target needs >= 800');
      else recordTarget({ id: '4 squeezenet loop', what: `SqueezeNet loop / (render + classify), ${n} images, median of ${reps} interleaved`, value: squeeze.ratio, unit: 'ratio', goal: { op: '<=', value: 1.1 } });
    } else skipTarget('4 squeezenet loop', `no ../shared/models (SqueezeNet) beside the checkout (${sharedDir()})`);
    out.push(printTable('Evolution loop overhead (time per image of one generation; 1.00 = no overhead beyond rendering + classifying)', rows));
  } finally {
    dispose();
  }
  return out;
}
