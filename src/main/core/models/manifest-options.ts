import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { FoolError } from '../../../shared/errors';
import {
  ManifestFileSchema,
  ManifestSchema,
  PRESET_NAMES,
  type ManifestFile,
  type Manifest,
  type ManifestOverrides,
  type PresetName,
} from '../../../shared/manifest';
import type { Dim, GraphSummary } from './onnx-graph';
import { PRESETS } from './presets';
import { resourcePath } from '../paths';

/** The 1000 ImageNet class names in the standard (Caffe / torchvision) order, shipped with the project. */
export const IMAGENET_LABELS = (): string => resourcePath('labels', 'imagenet-1000.txt');
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Which flag sets each manifest field, for error messages that say what to change. */
const FLAG: Record<string, string> = {
  'input.name': 'the graph input (fix "input.name" in the manifest)',
  'input.layout': '--layout nchw|nhwc',
  'input.height': '--size HxW',
  'input.width': '--size HxW',
  'input.channels': '--channels grey|rgb|bgr',
  'input.channelOrder': '--channels rgb|bgr',
  'input.scale': '--scale S',
  'input.mean': '--mean M[,M,M]',
  'input.std': '--std S[,S,S]',
  'input.resize': '--resize stretch|crop',
  'input.resizeTo': '--resize-to N',
  'output.name': '--output NAME',
  'output.kind': '--output-kind probs|logits',
  labels: '--labels FILE',
  labelOffset: '--label-offset K',
  name: '--name NAME',
};

export interface ManifestSource {
  data: ManifestFile;
  /** The file it was read from (relative paths in it are relative to its folder). */
  path: string;
  /** Given with --manifest (true) or found beside the model (false). */
  explicit: boolean;
}

/**
 * Reads a manifest file: JSON, checked against the manifest fields (each optional). A file that is
 * not JSON or has a wrong field fails with the field and the fix.
 */
export function readManifestFile(path: string, explicit: boolean): ManifestSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new FoolError('NOT_FOUND', `manifest ${path} does not exist or cannot be read`, 'Check the path given to --manifest');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FoolError('BAD_INPUT', `manifest ${path} is not valid JSON: ${(e as Error).message}`, 'Fix the JSON (docs/models.md shows a complete example), or describe the model with flags instead');
  }
  const r = ManifestFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.path.join('.') || '(top level)';
    const unknown = i.code === 'unrecognized_keys' ? ` (unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')})` : '';
    const key = i.path.join('.');
    throw new FoolError(
      'BAD_INPUT',
      `manifest ${path}: ${field}: ${i.message}${unknown}`,
      unknown ? 'Remove or rename the field: the manifest fields are name, file, description, preset, input.{name, layout, height, width, channels, channelOrder, scale, mean, std, resize, resizeTo}, output.{name, kind}, labels, labelOffset, classes' : fixFor(key),
    );
  }
  return { data: r.data, path: resolve(path), explicit };
}

function fixFor(field: string): string {
  const examples: Record<string, string> = {
    preset: `preset is one of ${PRESET_NAMES.join(', ')}`,
    'input.layout': 'input.layout is "NCHW" or "NHWC"',
    'input.channels': 'input.channels is 1 (grey) or 3 (colour)',
    'input.channelOrder': 'input.channelOrder is "RGB" or "BGR"',
    'input.mean': 'input.mean is a list of 1 or 3 numbers, e.g. [0.485, 0.456, 0.406]',
    'input.std': 'input.std is a list of 1 or 3 positive numbers, e.g. [0.229, 0.224, 0.225]',
    'input.scale': 'input.scale is a positive number, e.g. 0.00392156862745098 for 1/255',
    'input.resize': 'input.resize is "stretch" or "crop"',
    'output.kind': 'output.kind is "probabilities" or "logits"',
  };
  return `Fix "${field}" in the manifest${examples[field] ? `: ${examples[field]}` : ''}${FLAG[field] ? `, or set it with ${FLAG[field]}` : ''}`;
}

/** FILE.json beside FILE.onnx (as `fool train` writes it), or FILE.onnx.json. */
export function manifestBeside(modelFile: string): string | undefined {
  const stem = join(dirname(modelFile), basename(modelFile, extname(modelFile)));
  for (const candidate of [`${stem}.json`, `${modelFile}.json`]) if (existsSync(candidate)) return candidate;
  return undefined;
}

function numeric(d: Dim | undefined): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Number of classes a graph output holds per image (product of its non-batch dims), when fixed. */
export function outputClasses(dims: Dim[]): number | undefined {
  let k = 1;
  for (const d of dims.slice(1)) {
    const n = numeric(d);
    if (n === undefined) return undefined;
    k *= n;
  }
  return dims.length > 1 ? k : undefined;
}

export interface BuildRequest {
  name: string;
  /** --labels: a labels file, one class a line. */
  labels?: string;
  overrides: ManifestOverrides;
  manifest?: ManifestSource;
}

export interface BuiltManifest {
  manifest: Manifest;
  labels: string[];
  /** Where each decision came from when not given: for the CLI's report. */
  notes: string[];
}

/**
 * The manifest of a model to register, from (lowest to highest priority) its preset, a manifest
 * file, and the flags; the input size comes from the graph when nothing else says. Every value is
 * checked against the graph here, with a message that names the flag that fixes it.
 */
export function buildManifest(g: GraphSummary, req: BuildRequest, readLabels: (path: string) => string[]): BuiltManifest {
  const file = req.manifest?.data ?? {};
  const o = req.overrides;
  // A --preset given with a manifest file replaces the file's preprocessing (its size, layout,
  // output and labels stay): so that "--manifest M.json --preset P" means what it says.
  const fin = o.preset && file.input ? { name: file.input.name, layout: file.input.layout, height: file.input.height, width: file.input.width } : (file.input ?? {});
  const notes: string[] = [];
  const presetName: PresetName | undefined = o.preset ?? file.preset;
  const preset = presetName ? PRESETS[presetName] : undefined;

  if (g.inputs.length !== 1) {
    throw new FoolError(
      'MISMATCH',
      `the graph has ${g.inputs.length} runtime inputs (${g.inputs.map((i) => i.name).join(', ')}); an image classifier has one`,
      'Export the model with a single image input',
    );
  }
  const gi = g.inputs[0];
  if (gi.dims.length !== 4) {
    throw new FoolError(
      'MISMATCH',
      `the graph's input "${gi.name}" has shape [${gi.dims.join(', ')}], not an image batch [N, C, H, W] or [N, H, W, C]`,
      'Only image classifiers can be registered',
    );
  }

  // Channels and their order.
  let channels: 1 | 3 | undefined;
  let order: 'RGB' | 'BGR' | undefined;
  if (o.channels) {
    channels = o.channels === 'grey' ? 1 : 3;
    order = o.channels === 'bgr' ? 'BGR' : 'RGB';
  } else {
    channels = fin.channels ?? preset?.channels;
    order = fin.channelOrder ?? preset?.channelOrder;
  }
  const [, d1, d2, d3] = gi.dims;
  if (channels === undefined) {
    // No preset, no manifest: read it off the graph when it is unambiguous.
    const c = numeric(d1) === 1 || numeric(d1) === 3 ? numeric(d1) : numeric(d3) === 1 || numeric(d3) === 3 ? numeric(d3) : undefined;
    channels = c as 1 | 3 | undefined;
  }
  if (channels === 1 && order === undefined) order = 'RGB'; // one channel: no order to choose
  if (channels === undefined || order === undefined) {
    const missing = [channels === undefined ? 'the channels' : '', order === undefined ? 'the channel order' : ''].filter(Boolean).join(' and ');
    throw new FoolError(
      'BAD_INPUT',
      `nothing says ${missing} of the model's input`,
      `Pass --preset (${PRESET_NAMES.join(', ')}), --manifest M.json, or --channels grey|rgb|bgr with --scale, --mean and --std`,
    );
  }
  const layout = o.layout ?? fin.layout ?? (numeric(d3) === channels && numeric(d1) !== channels ? 'NHWC' : 'NCHW');
  const graphChannels = numeric(layout === 'NCHW' ? d1 : d3);
  if (graphChannels !== undefined && graphChannels !== channels) {
    const want = graphChannels === 1 ? 'grey' : graphChannels === 3 ? 'rgb (or bgr)' : `${graphChannels} channels`;
    throw new FoolError(
      'MISMATCH',
      `the manifest says ${channels === 1 ? 'grey (1 channel)' : 'colour (3 channels)'} but the graph's input "${gi.name}" [${gi.dims.join(', ')}] takes ${graphChannels} channel${graphChannels === 1 ? '' : 's'} in ${layout}`,
      graphChannels === 1 || graphChannels === 3
        ? `Use --channels ${want.split(' ')[0]}${presetName ? ` (or a ${graphChannels === 1 ? 'grey' : 'colour'} preset)` : ''}, or --layout ${layout === 'NCHW' ? 'nhwc' : 'nchw'} if the channels are on the other axis`
        : 'Only grey (1) and colour (3) inputs are supported',
    );
  }
  const [gh, gw] = layout === 'NCHW' ? [numeric(d2), numeric(d3)] : [numeric(d1), numeric(d2)];
  const height = o.height ?? fin.height ?? gh ?? preset?.size;
  const width = o.width ?? fin.width ?? gw ?? preset?.size;
  if (height === undefined || width === undefined) {
    throw new FoolError('BAD_INPUT', `the graph's input "${gi.name}" [${gi.dims.join(', ')}] leaves its size open and nothing gives it`, 'Pass --size HxW (e.g. --size 224x224)');
  }
  if ((gh !== undefined && gh !== height) || (gw !== undefined && gw !== width)) {
    throw new FoolError(
      'MISMATCH',
      `the input size ${height}x${width} does not match the graph's input "${gi.name}" [${gi.dims.join(', ')}], which takes ${gh ?? '?'}x${gw ?? '?'} (${layout})`,
      `Use --size ${gh ?? height}x${gw ?? width}, or leave --size out: the size comes from the graph`,
    );
  }

  const scale = o.scale ?? fin.scale ?? preset?.scale;
  const mean = o.mean ?? fin.mean ?? preset?.mean;
  const std = o.std ?? fin.std ?? preset?.std;
  const unset = [scale === undefined ? '--scale' : '', mean === undefined ? '--mean' : '', std === undefined ? '--std' : ''].filter(Boolean);
  if (scale === undefined || mean === undefined || std === undefined) {
    throw new FoolError('BAD_INPUT', `nothing gives the input normalisation (${unset.join(', ')})`, `Pass --preset (${PRESET_NAMES.join(', ')}) or ${unset.join(' and ')}`);
  }
  for (const [key, values] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw new FoolError(
        'BAD_INPUT',
        `--${key} has ${values.length} values (${values.join(', ')}) but the input has ${channels} channel${channels === 1 ? ' (grey)' : 's'}`,
        `Give 1 value (used for every channel) or ${channels}, one per channel in the model's channel order${channels === 1 ? ', or --channels rgb|bgr if the model takes colour' : ''}`,
      );
    }
  }

  const resize = o.resize ?? fin.resize ?? preset?.resize ?? 'stretch';
  let resizeTo = o.resizeTo ?? fin.resizeTo;
  if (resize === 'crop' && resizeTo === undefined) resizeTo = preset?.resizeTo?.(height) ?? Math.round(Math.max(height, width) / 0.875);
  if (resize === 'stretch') {
    if (o.resizeTo !== undefined) throw new FoolError('BAD_INPUT', '--resize-to only applies to --resize crop', 'Add --resize crop, or leave --resize-to out');
    resizeTo = undefined;
  }
  if (resizeTo !== undefined && (resizeTo < height || resizeTo < width)) {
    throw new FoolError('BAD_INPUT', `--resize-to ${resizeTo} is smaller than the input ${height}x${width}`, `The crop is taken from the image resized to --resize-to: use at least ${Math.max(height, width)}`);
  }

  // Output.
  const outputName = o.output ?? file.output?.name ?? (g.outputs.find((x) => x.producer === 'Softmax') ?? g.outputs[0]).name;
  const out = g.outputs.find((x) => x.name === outputName);
  if (!out) throw new FoolError('MISMATCH', `the graph has no output "${outputName}"`, `Pass --output with one of its outputs: ${g.outputs.map((x) => x.name).join(', ')}`);
  const kind = o.outputKind ?? file.output?.kind ?? (out.producer === 'Softmax' ? 'probabilities' : 'logits');
  const k = outputClasses(out.dims);

  // Labels: --labels, the manifest's, digits for a 10-way grey model, ImageNet's for 1000/1001.
  let labels: string[];
  if (req.labels) labels = readLabels(resolve(req.labels));
  else if (file.labels && req.manifest) labels = readLabels(resolve(dirname(req.manifest.path), file.labels));
  else if (channels === 1 && (k === 10 || k === undefined)) {
    labels = DIGITS;
    notes.push('labels: the digits 0-9');
  } else if (channels === 3 && (k === 1000 || k === 1001)) {
    labels = readLabels(IMAGENET_LABELS());
    notes.push(`labels: the 1000 ImageNet classes shipped with Fooling Lab${k === 1001 ? ' (output 0 is "background": label offset 1)' : ''}`);
  } else {
    throw new FoolError('BAD_INPUT', `no labels for this model (${k ?? 'an open number of'} outputs)`, 'Pass --labels FILE with one class name a line');
  }
  let labelOffset = o.labelOffset ?? file.labelOffset;
  if (labelOffset === undefined) {
    // Only the well-known case is guessed: 1001 outputs (TF-slim's leading "background") for the
    // 1000 ImageNet classes. Any other mismatch is an error that says what to do.
    labelOffset = k === 1001 && labels.length === 1000 ? 1 : 0;
    if (labelOffset === 1 && !notes.some((n) => n.includes('background'))) notes.push('label offset 1: the output has one class more than the labels (a leading "background")');
  }

  const raw = {
    name: req.name,
    file: 'model.onnx',
    description: o.description ?? file.description,
    preset: presetName,
    input: { name: gi.name, layout, height, width, channels, channelOrder: order, scale, mean, std, resize, ...(resizeTo !== undefined ? { resizeTo } : {}) },
    output: { name: outputName, kind },
    labels: 'labels.txt',
    labelOffset,
    classes: labels.length,
  };
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const key = i.path.join('.');
    throw new FoolError('BAD_INPUT', `the model's manifest is invalid: ${key}: ${i.message}`, FLAG[key] ? `Set it with ${FLAG[key]}` : 'Check the options given to "fool models add"');
  }
  return { manifest: r.data, labels, notes };
}

/** What of an add request a command line repeats (everything but the preprocessing flags). */
export interface AddCommandParts {
  file: string;
  name?: string;
  manifest?: string;
  layout?: 'NCHW' | 'NHWC';
  height?: number;
  width?: number;
  labels?: string;
  labelOffset?: number;
  output?: string;
  outputKind?: 'probabilities' | 'logits';
}

/**
 * The `fool models add` command for a request with its preprocessing flags replaced by `flags`:
 * the self-check's advice, the same in the terminal and in the app.
 */
export function addCommandLine(r: AddCommandParts, flags: string): string {
  const q = (v: string) => (/^[\w./:=,@+-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);
  const parts = ['fool models add', q(r.file)];
  if (r.name) parts.push('--name', q(r.name));
  if (r.manifest) parts.push('--manifest', q(r.manifest));
  parts.push(flags);
  if (r.layout) parts.push('--layout', r.layout.toLowerCase());
  if (r.height !== undefined && r.width !== undefined) parts.push('--size', `${r.height}x${r.width}`);
  if (r.labels) parts.push('--labels', q(r.labels));
  if (r.labelOffset !== undefined) parts.push('--label-offset', String(r.labelOffset));
  if (r.output) parts.push('--output', q(r.output));
  if (r.outputKind) parts.push('--output-kind', r.outputKind === 'probabilities' ? 'probs' : 'logits');
  return parts.join(' ');
}

/** A manifest for a graph from one of the presets, with `classes` labels (benchmarks: no labels file). */
export function presetManifest(preset: PresetName, g: GraphSummary, opts: { name: string; output?: string; labelOffset?: number }, classes: number, file: string, labels: string): Manifest {
  const { manifest } = buildManifest(g, { name: opts.name, labels, overrides: { preset, output: opts.output, labelOffset: opts.labelOffset ?? 0 } }, () =>
    Array.from({ length: classes }, (_, i) => String(i)),
  );
  return { ...manifest, file, labels };
}
