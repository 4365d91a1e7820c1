import { Command, Option } from 'commander';
import { engineOverrides, ENCODINGS, type Encoding } from '../../../shared/engine';
import { jobResult, limitedIntOption, parseIntOption, progressBar, run, withLab, type LabClient } from '../common';
import { formatConfidence } from '../../../shared/confidence';
import { classifierOptions, engineOptions, withClassifierOptions, withEngineOptions } from './shared-options';

/** What an evolution job returns (LabApi's 'evolve' jobs). */
interface RunSummary {
  runId: number;
  stopped: boolean;
  seconds: number;
  evaluations: number;
}

/** Follows the run's job with a progress bar; Ctrl-C cancels it after the current generation. */
async function follow(lab: LabClient, runId: number, jobId: number): Promise<RunSummary> {
  const { run: r } = await lab.call('runs.get', { runId });
  const bar = progressBar(
    `run ${runId} |{bar}| gen {value}/{total}  median {median}  max {max}  99.99%: {cells}  {ips} img/s  ETA {eta_text}`,
    r.generations ?? 0,
    `run ${runId} {bar} {value}/{total} med {median} 99.99% {cells} ETA {eta_text}`,
  );
  bar.update(r.generation + 1, { median: '-', max: '-', cells: '-', ips: '-' });
  try {
    const end = await lab.follow(
      jobId,
      (e) => {
        if (e.type === 'run.progress' && e.runId === runId) {
          bar.update(e.generation, { median: formatConfidence(e.stats.median), max: formatConfidence(e.stats.max), cells: `${e.stats.at9999}`, ips: e.evaluationsPerSecond.toFixed(0) });
        }
      },
      undefined,
      (m) => bar.interrupt(m),
    );
    return jobResult<RunSummary>(end);
  } finally {
    bar.stop();
  }
}

async function result(lab: LabClient, s: RunSummary) {
  const { run, stats: all } = await lab.call('runs.get', { runId: s.runId });
  const champs = await lab.call('runs.champions', { runId: s.runId });
  const json = {
    runId: run.runId,
    model: run.model,
    encoding: run.encoding,
    generations: run.generation,
    status: run.status,
    seconds: s.seconds,
    evaluationsPerSecond: s.seconds > 0 ? s.evaluations / s.seconds : 0,
    champions: champs.map((c) => ({ class: c.class, label: c.label, confidence: c.confidence, generation: c.generation, individualId: c.individualId })),
  };
  const stats = all.at(-1);
  const text = [
    `Run ${run.runId} (${run.encoding} on ${run.model}, seed ${run.seed}): ${s.stopped ? 'stopped' : 'finished'} at generation ${run.generation}` +
      ` in ${s.seconds.toFixed(1)} s (${json.evaluationsPerSecond.toFixed(0)} images/s).`,
    stats ? `Median confidence ${formatConfidence(stats.median)}, ${stats.at9999}/${run.classes} classes at >= 99.99%, ${stats.at99} at >= 99%.` : '',
    s.stopped ? `Resume with: fool resume ${run.runId}` : `Export with: fool export ${run.runId} --out DIR`,
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
      return withLab(
        cmd,
        async (lab) => {
          const { runId, jobId } = await lab.call('runs.start', { model: o.model, encoding: o.encoding, generations: o.generations, batch: o.batch, seed: o.seed, overrides, tenCrop: o.tenCrop });
          return result(lab, await follow(lab, runId, jobId));
        },
        { classifier: classifierOptions(cmd) },
      );
    }),
  );

  withClassifierOptions(
    program
      .command('resume')
      .description('continue a stopped or interrupted run from its last committed generation')
      .argument('<run>', 'run id', parseIntOption('run id'))
      .option('--generations <n>', 'new total length of the run', limitedIntOption('--generations', 'generations')),
  ).action(
    run(async (cmd, id) => {
      const o = cmd.opts() as { generations?: number };
      return withLab(
        cmd,
        async (lab) => {
          const { runId, jobId } = await lab.call('runs.resume', { runId: id as number, generations: o.generations, takeOver: true });
          return result(lab, await follow(lab, runId, jobId));
        },
        { classifier: classifierOptions(cmd) },
      );
    }),
  );
}
