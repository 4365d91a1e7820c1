import { Command, Option } from 'commander';
import { PRESET_NAMES } from '../../../shared/manifest';
import type { ApiParams } from '../../../shared/api';
import { jobResult, parseIntOption, pct, progressBar, run, table, withLab } from '../common';
import { classifierOptions, withClassifierOptions } from './shared-options';

export function registerModels(program: Command): void {
  const models = program.command('models').description('the model registry: list, add, show, remove and evaluate classifiers');

  models
    .command('list')
    .description('list the models of this lab (shipped ones first)')
    .action(
      run(async (cmd) => {
        return withLab(cmd, async (lab) => {
          const list = await lab.call('models.list', {});
          return {
            json: { models: list },
            text: list.length
              ? table([['name', 'classes', 'source', 'file'], ...list.map((m) => [m.name, m.classes, m.source, m.file])])
              : 'No models yet. Add one with: fool models add FILE.onnx --name NAME --preset P',
          };
        });
      }),
    );

  models
    .command('add')
    .description('register an ONNX classifier with its preprocessing (checked against the graph)')
    .argument('<file>', 'the .onnx file')
    .requiredOption('--name <name>', 'name to use in this lab')
    .addOption(new Option('--preset <preset>', 'preprocessing family').choices([...PRESET_NAMES]).makeOptionMandatory())
    .option('--labels <file>', 'class names, one a line (mnist: digits by default)')
    .option('--label-offset <k>', 'output index of class 0 (1 when output 0 is "background")', parseIntOption('--label-offset', 0))
    .addOption(new Option('--output-kind <kind>', 'what the output holds (default: probabilities if made by a Softmax)').choices(['probabilities', 'logits']))
    .option('--output <name>', 'graph output to read (default: the softmax output, else the first)')
    .option('--description <text>', 'a note shown in listings')
    .action(
      run(async (cmd, file) => {
        const o = cmd.opts() as Omit<ApiParams<'models.add'>, 'file'>;
        return withLab(cmd, async (lab) => {
          const r = await lab.call('models.add', { file: file as string, ...o });
          const { manifest: m, notes } = r;
          return {
            json: r,
            text: `Added ${m.name}: ${m.classes} classes, input ${m.input.name} ${m.input.layout} ${m.input.channels}x${m.input.height}x${m.input.width} (${m.input.channelOrder}), output ${m.output.name} (${m.output.kind})${notes.length ? `; on load: ${notes.join(', ')}` : ''}`,
          };
        });
      }),
    );

  models
    .command('show')
    .description("a model's manifest and graph summary")
    .argument('<name>')
    .action(
      run(async (cmd, name) => {
        return withLab(cmd, async (lab) => {
          const r = await lab.call('models.get', { name: name as string });
          const { manifest: m, graph: summary } = r;
          const info = { source: r.source, path: r.file, labels: r.labels };
          const text = [
            `${m.name} (${info.source})  ${info.path}`,
            m.description ? `  ${m.description}` : '',
            `  input   ${m.input.name} ${m.input.layout} ${m.input.channels}x${m.input.height}x${m.input.width}, ${m.input.channels === 1 ? 'grey' : m.input.channelOrder}, x = (p * ${m.input.scale} - [${m.input.mean}]) / [${m.input.std}], resize ${m.input.resize}${m.input.resizeTo ? ` ${m.input.resizeTo}` : ''}`,
            `  output  ${m.output.name} (${m.output.kind}), ${m.classes} classes, label offset ${m.labelOffset}: ${info.labels.slice(0, 3).join(', ')}${m.classes > 3 ? ', ...' : ''}`,
            `  graph   opset ${summary.opset}, ${summary.parameters.toLocaleString('en')} parameters, ops ${Object.entries(summary.ops).map(([k, v]) => `${k} x${v}`).join(', ')}`,
          ].filter(Boolean);
          return { json: r, text: text.join('\n') };
        });
      }),
    );

  models
    .command('remove')
    .description('remove a model added to this lab (its copied files too)')
    .argument('<name>')
    .action(
      run(async (cmd, name) => {
        return withLab(cmd, async (lab) => {
          const r = await lab.call('models.remove', { name: name as string });
          return { json: r, text: `Removed ${name as string}` };
        });
      }),
    );

  withClassifierOptions(
    models
      .command('eval')
      .description("a model's accuracy on a dataset")
      .argument('<name>')
      .addOption(new Option('--dataset <name>', 'the dataset').choices(['mnist-test']).default('mnist-test')),
  ).action(
    run(async (cmd, name) => {
      const o = cmd.opts() as { dataset: 'mnist-test' };
      const bar = progressBar('evaluating |{bar}| {value}/{total} images', 10000);
      try {
        return await withLab(
          cmd,
          async (lab) => {
            const { jobId } = await lab.call('models.eval', { name: name as string, dataset: o.dataset });
            const r = jobResult<{ model: string; dataset: string; n: number; accuracy: number; seconds: number }>(
              await lab.follow(jobId, (e) => e.type === 'job.progress' && bar.update(e.done), null),
            );
            bar.stop();
            return {
              json: r,
              text: `${name as string} on ${o.dataset}: ${pct(r.accuracy)} of ${r.n} images correct (${(r.n / r.seconds).toFixed(0)} images/s)`,
            };
          },
          { classifier: classifierOptions(cmd) },
        );
      } finally {
        bar.stop();
      }
    }),
  );
}
