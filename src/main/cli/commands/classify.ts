import { Command } from 'commander';
import { parseIntOption, run, withLab } from '../common';
import { formatConfidence } from '../../../shared/confidence';
import { classifierOptions, withClassifierOptions } from './shared-options';

export function registerClassify(program: Command): void {
  withClassifierOptions(
    program
      .command('classify')
      .description('classify PNG or JPEG images with a registered model')
      .argument('<images...>', 'image files')
      .requiredOption('--model <name>', 'a model of this lab (fool models list)')
      .option('--top <k>', 'how many classes to show per image', parseIntOption('--top'), 5),
  ).action(
    run(async (cmd, files) => {
      const o = cmd.opts() as { model: string; top: number };
      return withLab(
        cmd,
        async (lab) => {
          const { results } = await lab.call('classify', { model: o.model, files: files as string[], top: o.top });
          const text = results.map((r) => [r.file, ...r.top.map((t) => `  ${formatConfidence(t.confidence).padStart(8)}  ${t.class}  ${t.label}`)].join('\n')).join('\n');
          return { json: { results }, text };
        },
        { classifier: classifierOptions(cmd) },
      );
    }),
  );
}
