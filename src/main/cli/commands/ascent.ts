import { Command, Option } from 'commander';
import type { ApiParams } from '../../../shared/api';
import { jobResult, limitedIntOption, parseIntOption, parseNumberOption, progressBar, run, table, withLab } from '../common';
import { formatConfidence } from '../../../shared/confidence';

interface AscentResult {
  runId: number;
  model: string;
  seconds: number;
  done: boolean;
  results: { class: number; label: string; confidence: number; steps: number; stepsTo: Record<string, number | null> }[];
}

export function registerAscent(program: Command): void {
  program
    .command('ascent')
    .description('fooling images by gradient ascent on the input (the paper\'s third method)')
    .requiredOption('--model <name>', 'the model to fool')
    .option('--classes <list>', 'target classes: all, 0-9, 3,7,12 or random:N', '0-9')
    .option('--seed <s>', 'seed of the starting noise (and of random:N)', limitedIntOption('--seed', 'seed'), 1)
    .option('--steps <n>', 'most steps per image', parseIntOption('--steps', 1, 1_000_000), 300)
    .addOption(new Option('--objective <o>', 'what is raised').choices(['log-probability', 'probability']).default('log-probability'))
    .addOption(new Option('--step-rule <r>', 'sign: fixed steps along the gradient sign; released: the original code\'s lr rule').choices(['sign', 'released']).default('sign'))
    .option('--step-size <px>', 'sign rule: step per input in pixel units (above 0, at most 255)', parseNumberOption('--step-size', 0, 255, { minExclusive: true }), 2)
    .option('--decay <d>', 'L2 decay per step (0 to below 1)', parseNumberOption('--decay', 0, 0.999999), 0.01)
    .option('--blur <sigma>', 'Gaussian blur between steps (pixels, 0 to 100; 0 = off)', parseNumberOption('--blur', 0, 100), 0)
    .option('--target <p>', 'stop at this confidence (above 0, below 1)', parseNumberOption('--target', 0, 0.999999999, { minExclusive: true }), 0.9999)
    .option('--workers <n>', 'worker threads', limitedIntOption('--workers', 'workers'))
    .action(
      run(async (cmd) => {
        const o = cmd.opts() as Omit<ApiParams<'ascent.start'>, 'classes'> & { classes: string; target: number };
        return withLab(cmd, async (lab) => {
          const { jobId } = await lab.call('ascent.start', o);
          const bar: { b?: ReturnType<typeof progressBar> } = {};
          let outcome: AscentResult;
          try {
            outcome = jobResult<AscentResult>(
              await lab.follow(
                jobId,
                (e) => {
                  if (e.type !== 'job.progress') return;
                  bar.b ??= progressBar('ascent |{bar}| {value}/{total} images done  median now {median}', e.total);
                  const median = e.detail?.median;
                  bar.b.update(e.done, { median: typeof median === 'number' ? formatConfidence(median) : '-' });
                },
                'Stopping before the next step (Ctrl-C again to quit at once; the images so far are kept)...',
              ),
            );
          } finally {
            bar.b?.stop();
          }
          const results = outcome.results.map((r) => ({ class: r.class, label: r.label, confidence: r.confidence, steps: r.steps, stepsTo: r.stepsTo }));
          const reached = results.filter((r) => r.confidence >= o.target).length;
          const text = [
            table([['class', 'label', 'confidence', 'steps', 'to 99%', 'to 99.99%'], ...results.map((r) => [r.class, r.label.slice(0, 40), formatConfidence(r.confidence), r.steps, r.stepsTo['0.99'] ?? '-', r.stepsTo['0.9999'] ?? '-'])]),
            `${reached}/${results.length} images at >= ${formatConfidence(o.target)} in ${outcome.seconds.toFixed(1)} s; stored as run ${outcome.runId} (fool export ${outcome.runId} --out DIR)`,
            ...(outcome.done ? [] : ['Stopped: the classes begun so far, each as far as it got.']),
          ].join('\n');
          return { json: { runId: outcome.runId, model: o.model, seconds: outcome.seconds, done: outcome.done, results }, text };
        });
      }),
    );
}
