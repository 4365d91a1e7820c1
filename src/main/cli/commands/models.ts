import { Command, InvalidArgumentError, Option } from 'commander';
import type { ApiParams, ModelDownloaded } from '../../../shared/api';
import { PRESET_NAMES, type InputSpec } from '../../../shared/manifest';
import { describeNormalisation, parseNumber, parseNumbers, parseOutputKind, parseSize } from '../../../shared/manifest-flags';
import { jobResult, parseIntOption, pct, progressBar, progressNote, run, table, withLab } from '../common';
import { classifierOptions, withClassifierOptions } from './shared-options';

/** "1x28x28 (grey)", "3x227x227 (BGR)": a one-channel input has no channel order to name. */
function inputShape(i: InputSpec): string {
  return `${i.channels}x${i.height}x${i.width} (${i.channels === 1 ? 'grey' : i.channelOrder})`;
}

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
              ? table([
                  ['name', 'classes', 'source', 'self-check', 'accuracy', 'file'],
                  ...list.map((m) => [
                    m.name,
                    m.classes,
                    m.source,
                    m.check ? `${pct(m.check.accuracy, 1)}${m.check.passed ? '' : ' POOR'}` : '-',
                    m.evaluations?.length ? `${pct(m.evaluations[0].accuracy)} (${m.evaluations[0].dataset})` : '-',
                    m.missing ? `MISSING ${m.missing} ("fool models show ${m.name}")` : m.file,
                  ]),
                ])
              : 'No models yet. Add one with: fool models add FILE.onnx --name NAME --preset P',
          };
        });
      }),
    );

  withClassifierOptions(
    models
      .command('add')
      .description('register an ONNX classifier with its preprocessing (checked against the graph, then scored by the self-check)')
      .argument('<file>', 'the .onnx file (FILE.json beside it is read as its manifest when present, as "fool train" writes it)')
      .option('--name <name>', 'name to use in this lab (default: the manifest\'s name)')
      .addOption(new Option('--preset <preset>', 'preprocessing family; the flags below change single fields of it').choices([...PRESET_NAMES]))
      .option('--manifest <file.json>', 'a manifest with any of the fields (docs/models.md); flags override it')
      .addOption(new Option('--channels <c>', 'grey, or colour in rgb or bgr order').choices(['grey', 'rgb', 'bgr']))
      .addOption(new Option('--layout <l>', 'input layout').choices(['nchw', 'nhwc']))
      .option('--size <HxW>', 'input height x width (default: from the graph)')
      .option('--scale <s>', 'pixel p (0..255) is multiplied by this first, e.g. 1/255')
      .option('--mean <m>', 'subtracted after --scale: one value or one per channel, e.g. 0.485,0.456,0.406')
      .option('--std <s>', 'divided by last: one value or one per channel, e.g. 0.229,0.224,0.225')
      .addOption(new Option('--resize <r>', 'stretch to the input size, or resize the shorter side and take the centre crop').choices(['stretch', 'crop']))
      .option('--resize-to <n>', 'with --resize crop: the shorter side before the crop', parseIntOption('--resize-to'))
      .option('--labels <file>', 'class names, one a line (default: digits for 10-way grey models, ImageNet for 1000/1001 outputs)')
      .option('--label-offset <k>', 'output index of class 0 (1 when output 0 is "background")', parseIntOption('--label-offset', 0))
      .option('--output-kind <kind>', 'probs (already a softmax) or logits (default: probs if made by a Softmax)')
      .option('--output <name>', 'graph output to read (default: the softmax output, else the first)')
      .option('--description <text>', 'a note shown in listings')
      .option('--no-check', 'skip the preprocessing self-check')
      .addHelpText(
        'after',
        '\nPrecedence: the preset, then the manifest file, then each flag. The self-check scores a 10-class\n' +
          '28x28 grey model on 1,000 MNIST test digits and a 1000/1001-class model on photos of known\n' +
          'ImageNet classes; when the score is poor it tries the other presets and channel orders and\n' +
          'says which flags score best.\n\n' +
          'Examples:\n' +
          '  fool models add lenet.onnx --name lenet --preset mnist\n' +
          '  fool models add mnist-cnn.onnx --name torch-cnn --preset torch-mnist\n' +
          '  fool models add net.onnx --name net --channels grey --scale 1/255 --mean 0.1307 --std 0.3081 --output-kind logits\n' +
          '  fool models add resnet50.onnx --name resnet50 --preset torch-imagenet\n',
      ),
  ).action(
    run(async (cmd, file) => {
      const o = cmd.opts() as AddFlags;
      const params = addParamsFromFlags(file as string, o);
      return withLab(
        cmd,
        async (lab) => {
          const note = o.check === false ? undefined : progressNote('self-check: scoring the model...');
          const r = await lab.call('models.add', params).finally(() => note?.stop());
          const m = r.manifest;
          const lines = [
            `Added ${m.name}: ${m.classes} classes, input ${m.input.name} ${m.input.layout} ${inputShape(m.input)}, ${describeInput(m.input)}, output ${m.output.name} (${m.output.kind})`,
            ...r.notes.map((n) => `  ${n}`),
            r.check ? (r.check.passed ? r.check.message : `WARNING ${r.check.message}`) : o.check === false ? 'self-check skipped (--no-check)' : 'self-check: none fits this model (it runs for 10-class 28x28 grey and 1000/1001-class models)',
          ];
          return { json: r, text: lines.join('\n') };
        },
        { classifier: classifierOptions(cmd) },
      );
    }),
  );

  models
    .command('show')
    .description("a model's manifest, self-check and graph summary")
    .argument('<name>')
    .action(
      run(async (cmd, name) => {
        return withLab(cmd, async (lab) => {
          const r = await lab.call('models.get', { name: name as string });
          const { manifest: m, graph: summary, missing } = r;
          const info = { source: r.source, path: r.file, labels: r.labels, check: r.check };
          const text = [
            `${m.name} (${info.source})  ${info.path}`,
            m.description ? `  ${m.description}` : '',
            missing ? `  MISSING ${missing}: the lab was copied without its models folder? Copy it back beside the database, or "fool models remove ${m.name}"` : '',
            `  input   ${m.input.name} ${m.input.layout} ${m.input.channels}x${m.input.height}x${m.input.width}, ${m.input.channels === 1 ? 'grey' : m.input.channelOrder}, ${describeInput(m.input)}, resize ${m.input.resize}${m.input.resizeTo ? ` ${m.input.resizeTo}` : ''}`,
            `  output  ${m.output.name} (${m.output.kind}), ${m.classes} classes, label offset ${m.labelOffset}${info.labels.length ? `: ${info.labels.slice(0, 3).join(', ')}${m.classes > 3 ? ', ...' : ''}` : ''}`,
            info.check ? `  check   ${info.check.passed ? '' : 'WARNING '}${info.check.message}` : '',
            ...r.evaluations.map((e) => `  eval    ${pct(e.accuracy)} of ${e.n} images of ${e.dataset} (${e.evaluatedAt}, ${e.seconds.toFixed(1)} s)`),
            summary ? `  graph   opset ${summary.opset}, ${summary.parameters.toLocaleString('en')} parameters, ops ${Object.entries(summary.ops).map(([k, v]) => `${k} x${v}`).join(', ')}` : '',
          ].filter(Boolean);
          return { json: r, text: text.join('\n') };
        });
      }),
    );

  withClassifierOptions(
    models
      .command('get')
      .description('download a public classifier from the catalogue (resumable, SHA-256 checked) and register it with the self-check')
      .argument('[name]', 'a catalogue name (see --list)')
      .option('--list', 'list the catalogue')
      .option('--name <name>', 'name to use in this lab (default: the catalogue name)')
      .option('--no-check', 'skip the preprocessing self-check')
      .addHelpText(
        'after',
        "\nExamples:\n  fool models get --list\n  fool models get alexnet      # the paper's ImageNet network (244 MB)\n\n" +
          'An interrupted download resumes when the same command runs again. FOOL_CATALOGUE=FILE.json adds\n' +
          'entries (or replaces those of the same name), e.g. a mirror inside an offline network.\n',
      ),
  ).action(
    run(async (cmd, name) => {
      const o = cmd.opts() as { list?: boolean; name?: string; check?: boolean };
      return withLab(
        cmd,
        async (lab) => {
          const entries = await lab.call('models.catalogue', {});
          if (o.list || !name) {
            return {
              json: { catalogue: entries },
              text: [
                table([
                  ['name', 'size', 'preset', 'manifest', 'model'],
                  ...entries.map((e) => [e.name, `${(e.bytes / 1e6).toFixed(0)} MB`, e.preset, e.verified ? 'verified' : 'not verified', e.title]),
                ]),
                '',
                'Get one with: fool models get NAME   (manifests "not verified": the self-check after the download decides)',
              ].join('\n'),
            };
          }
          const { jobId } = await lab.call('models.download', { name: name as string, ...(o.name ? { as: o.name } : {}), check: o.check !== false });
          const entry = entries.find((e) => e.name === name);
          const bar = progressBar(`${name as string} |{bar}| {percentage}% {mb} of {totalMb} MB | ETA {eta_formatted}`, entry?.bytes ?? 1);
          let r: ModelDownloaded;
          try {
            r = jobResult<ModelDownloaded>(
              await lab.follow(
                jobId,
                (e) => e.type === 'job.progress' && bar.update(e.done, { mb: (e.done / 1e6).toFixed(1), totalMb: (e.total / 1e6).toFixed(1) }),
                'Stopping the download (the same command resumes it)...',
              ),
            );
          } finally {
            bar.stop();
          }
          const m = r.manifest;
          const lines = [
            `Added ${m.name} from ${r.entry.url}${r.resumedFrom > 0 ? ` (resumed at ${(r.resumedFrom / 1e6).toFixed(1)} MB)` : ''}: ${m.classes} classes, input ${m.input.name} ${m.input.layout} ${inputShape(m.input)}, ${describeInput(m.input)}, output ${m.output.name} (${m.output.kind})`,
            ...r.notes.map((n) => `  ${n}`),
            r.check ? (r.check.passed ? r.check.message : `WARNING ${r.check.message}`) : 'self-check skipped (--no-check)',
          ];
          return { json: r, text: lines.join('\n') };
        },
        { classifier: classifierOptions(cmd) },
      );
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
          const used = r.runs.length
            ? `\n${r.runs.length === 1 ? 'Run' : 'Runs'} ${r.runs.join(', ')} ${r.runs.length === 1 ? 'was' : 'were'} made with it: kept, shown and exported as before, but resumed, transferred or ablated only once a model named ${name as string} is added again.`
            : '';
          return { json: r, text: `Removed ${name as string}${used}` };
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

interface AddFlags {
  name?: string;
  preset?: (typeof PRESET_NAMES)[number];
  manifest?: string;
  channels?: 'grey' | 'rgb' | 'bgr';
  layout?: 'nchw' | 'nhwc';
  size?: string;
  scale?: string;
  mean?: string;
  std?: string;
  resize?: 'stretch' | 'crop';
  resizeTo?: number;
  labels?: string;
  labelOffset?: number;
  outputKind?: string;
  output?: string;
  description?: string;
  check?: boolean;
}

/** The flags as the API's models.add request (values parsed here, checked against the graph by the core). */
function addParamsFromFlags(file: string, o: AddFlags): ApiParams<'models.add'> {
  const size = o.size !== undefined ? parseSize(o.size) : undefined;
  return {
    file,
    ...(o.name ? { name: o.name } : {}),
    ...(o.manifest ? { manifest: o.manifest } : {}),
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    check: o.check !== false,
    overrides: {
      ...(o.preset ? { preset: o.preset } : {}),
      ...(o.channels ? { channels: o.channels } : {}),
      ...(o.layout ? { layout: o.layout.toUpperCase() as 'NCHW' | 'NHWC' } : {}),
      ...(size ?? {}),
      ...(o.scale !== undefined ? { scale: positive('--scale', parseNumber('--scale', o.scale)) } : {}),
      ...(o.mean !== undefined ? { mean: parseNumbers('--mean', o.mean) } : {}),
      ...(o.std !== undefined ? { std: parseNumbers('--std', o.std).map((v) => positive('--std', v)) } : {}),
      ...(o.resize ? { resize: o.resize } : {}),
      ...(o.resizeTo !== undefined ? { resizeTo: o.resizeTo } : {}),
      ...(o.output ? { output: o.output } : {}),
      ...(o.outputKind ? { outputKind: parseOutputKind(o.outputKind) } : {}),
      ...(o.labelOffset !== undefined ? { labelOffset: o.labelOffset } : {}),
    },
  };
}

function positive(flag: string, v: number): number {
  if (!(v > 0)) throw new InvalidArgumentError(`${flag} must be positive, got ${v}`);
  return v;
}

function describeInput(i: InputSpec): string {
  return describeNormalisation(i);
}
