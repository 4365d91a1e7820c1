import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvolutionSettingsSchema } from '../../shared/engine';
import { renderOptions } from '../core/engine/render';
import { Scheduler } from '../core/engine/scheduler';
import { Evaluator } from '../core/evolution/evaluator';
import { EvolutionRun, loadArchive } from '../core/evolution/run';
import { Lab } from '../core/lab';
import { Classifier } from '../core/models/classifier';
import { cpuCount } from '../core/models/provider';
import { hasShared, sharedDir } from './models';
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

/**
 * The loop's overhead: evolve G generations, then time generation G+1 three ways on the very
 * same candidates (same seed => same batch): rendering alone, classification alone, and the whole
 * loop (render + classify pipeline, archive, database commit). Same workers and threads.
 */
async function overhead(lab: Lab, model: string, batch: number, warmGenerations: number): Promise<(string | number)[]> {
  const evo = EvolutionRun.create(lab, { model, encoding: 'cppn', generations: warmGenerations, batch, seed: 1 });
  await evo.run();
  const run = lab.runs.get(evo.runId);
  const settings = EvolutionSettingsSchema.parse(run.settings);
  const scheduler = new Scheduler({ settings: { ...settings, generations: warmGenerations + 1 }, seed: run.seed, numClasses: run.classes, lastGeneration: run.lastGeneration, archive: loadArchive(lab, run) });
  const genomes = scheduler.ask().map((c) => c.genome);
  const info = lab.models.get(model);
  const classifier = await Classifier.open(info);
  const evaluator = await Evaluator.open(classifier, renderOptions(settings), Math.max(1, Math.min(cpuCount(), 8)));
  let renderS = Infinity;
  let classifyS = Infinity;
  try {
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const parts = await evaluator.renderOnly(genomes);
      renderS = Math.min(renderS, (performance.now() - t0) / 1000);
      const pixels = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        pixels.set(p, o);
        o += p.length;
      }
      const t1 = performance.now();
      await classifier.classify({ n: genomes.length, height: settings.height, width: settings.width, channels: settings.channels, data: pixels });
      classifyS = Math.min(classifyS, (performance.now() - t1) / 1000);
    }
  } finally {
    await evaluator.close();
    await classifier.close();
  }
  // The loop on the same candidates (generation warm+1) and the next three, whose genomes are of
  // the same complexity; the first generation after start-up pays for warm-up, so take the median.
  await EvolutionRun.resume(lab, evo.runId, warmGenerations + 4).run();
  const times = lab.runs.stats(evo.runId).slice(-4).map((s) => s.seconds).sort((a, b) => a - b);
  const loopS = (times[1] + times[2]) / 2;
  const n = genomes.length;
  return [model, n, fmt(n / renderS), fmt(n / classifyS), fmt(n / loopS), (loopS / (renderS + classifyS)).toFixed(2)];
}

export async function evolutionBench(quick: boolean): Promise<string[]> {
  const out: string[] = [];
  const { lab, dispose } = tempLab();
  try {
    const generations = quick ? 50 : 200;
    const evo = EvolutionRun.create(lab, { model: 'lenet-mnist', encoding: 'cppn', generations, seed: 1 });
    const t0 = performance.now();
    await evo.run();
    const wall = (performance.now() - t0) / 1000;
    const last = lab.runs.stats(evo.runId).at(-1)!;
    out.push(
      printTable(`MNIST CPPN on the shipped LeNet, ${generations} generations x 200 images (the original: about 5 minutes on 4 cores)`, [
        ['generations', 'wall seconds (worker start-up included)', 'images/s', 'median at the end', 'classes at >= 99.99%'],
        [generations, wall.toFixed(1), fmt((generations + 1) * 200 / wall), `${(last.median * 100).toFixed(3)}%`, `${last.at9999}/10`],
      ]),
    );
    const rows: (string | number)[][] = [['model', 'images', 'render alone img/s', 'classify alone img/s', 'whole loop img/s', 'loop / (render + classify)']];
    rows.push(await overhead(lab, 'lenet-mnist', 200, 5));
    if (hasShared()) {
      await lab.models.add(join(sharedDir(), 'models/squeezenet1.0/squeezenet1.0.onnx'), { name: 'squeezenet', preset: 'caffe-imagenet', labels: join(sharedDir(), 'models/squeezenet1.0/synset_words.txt') });
      rows.push(await overhead(lab, 'squeezenet', quick ? 40 : 100, 1));
    }
    out.push(printTable('Evolution loop overhead (time per image of one generation; 1.00 = no overhead beyond rendering + classifying)', rows));
  } finally {
    dispose();
  }
  return out;
}
