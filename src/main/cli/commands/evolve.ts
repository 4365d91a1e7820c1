import { Command, Option } from 'commander';
import { engineOverrides, ENCODINGS, type Encoding } from '../../../shared/engine';
import { Lab } from '../../core/lab';
import { EvolutionRun, type RunSummary } from '../../core/evolution/run';
import { globals, limitedIntOption, parseIntOption, pct, progressBar, run, stopOnSigint } from '../common';
import { classifierOptions, engineOptions, withClassifierOptions, withEngineOptions } from './shared-options';

async function drive(lab: Lab, evo: EvolutionRun, cmd: Command): Promise<RunSummary> {
  const start = lab.runs.get(evo.runId).lastGeneration + 1;
  const bar = progressBar(
    `run ${evo.runId} |{bar}| gen {value}/{total}  median {median}  max {max}  99.99%: {cells}  {ips} img/s  ETA {eta_text}`,
    evo.generations,
    `run ${evo.runId} {bar} {value}/{total} med {median} 99.99% {cells} ETA {eta_text}`,
  );
  const stop = stopOnSigint(undefined, (m) => bar.interrupt(m));
  bar.update(start, { median: '-', max: '-', cells: '-', ips: '-' });
  try {
    return await evo.run({
      signal: stop.signal,
      classifier: classifierOptions(cmd),
      onGeneration: (r) =>
        bar.update(r.generation, {
          median: pct(r.stats.median),
          max: pct(r.stats.max),
          cells: `${r.stats.atLeast9999}`,
          ips: r.evaluationsPerSecond.toFixed(0),
        }),
    });
  } finally {
    bar.stop();
    stop.dispose();
  }
}

function result(lab: Lab, s: RunSummary) {
  const champs = lab.runs.champions(s.run.id);
  const json = {
    runId: s.run.id,
    model: s.run.model,
    encoding: s.run.encoding,
    generations: s.run.lastGeneration,
    status: s.run.status,
    seconds: s.seconds,
    evaluationsPerSecond: s.seconds > 0 ? s.evaluations / s.seconds : 0,
    champions: champs.map((c) => ({ class: c.class, label: c.label, confidence: c.confidence, generation: c.generation, individualId: c.individualId })),
  };
  const stats = lab.runs.stats(s.run.id).at(-1);
  const text = [
    `Run ${s.run.id} (${s.run.encoding} on ${s.run.model}, seed ${s.run.seed}): ${s.stopped ? 'stopped' : 'finished'} at generation ${s.run.lastGeneration}` +
      ` in ${s.seconds.toFixed(1)} s (${json.evaluationsPerSecond.toFixed(0)} images/s).`,
    stats ? `Median confidence ${pct(stats.median)}, ${stats.at9999}/${s.run.classes} classes at >= 99.99%, ${stats.at99} at >= 99%.` : '',
    s.stopped ? `Resume with: fool resume ${s.run.id}` : `Export with: fool export ${s.run.id} --out DIR`,
  ].filter(Boolean);
  return { json, text: text.join('\n') };
}

export function registerEvolve(program: Command): void {
  const evolve = program
    .command('evolve')
    .description('evolve fooling images with MAP-Elites (one champion per class)')
    .requiredOption('--model <name>', 'the model to fool (fool models list)')
    .addOption(new Option('--encoding <e>', 'genome encoding').choices([...ENCODINGS]).default('cppn'))
    .option('--generations <n>', 'generations after the random start (paper: 200 MNIST, 5000 ImageNet CPPN)', limitedIntOption('--generations', 'generations'))
    .option('--batch <n>', 'images per generation (paper: 200; 400 for ImageNet CPPN)', limitedIntOption('--batch', 'batch'))
    .option('--seed <s>', 'random seed: same seed, settings and model give the same run', limitedIntOption('--seed', 'seed'), 1);
  withClassifierOptions(
    withEngineOptions(evolve).option('--ten-crop', "fitness = softmax averaged over 10 crops (4 corners + centre, and mirrors), as the original's Caffe oversample"),
  ).action(
    run(async (cmd) => {
      const o = cmd.opts() as { model: string; encoding: Encoding; generations?: number; batch?: number; seed: number; tenCrop?: boolean };
      const overrides = engineOverrides(engineOptions(cmd));
      const lab = new Lab(globals(cmd).dbPath);
      try {
        const evo = EvolutionRun.create(lab, { model: o.model, encoding: o.encoding, generations: o.generations, batch: o.batch, seed: o.seed, overrides, tenCrop: o.tenCrop });
        return result(lab, await drive(lab, evo, cmd));
      } finally {
        lab.close();
      }
    }),
  );

  withClassifierOptions(
    program
      .command('resume')
      .description('continue a stopped or interrupted run from its last committed generation')
      .argument('<run>', 'run id', parseIntOption('run id'))
      .option('--generations <n>', 'new total length of the run', limitedIntOption('--generations', 'generations')),
  ).action(
    run(async (cmd, runId) => {
      const o = cmd.opts() as { generations?: number };
      const lab = new Lab(globals(cmd).dbPath);
      try {
        const evo = EvolutionRun.resume(lab, runId as number, o.generations);
        return result(lab, await drive(lab, evo, cmd));
      } finally {
        lab.close();
      }
    }),
  );
}
