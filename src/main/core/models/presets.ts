import { FoolError } from '../../../shared/errors';
import { ManifestSchema, type InputSpec, type Manifest, type PresetName } from '../../../shared/manifest';
import type { Dim, GraphSummary } from './onnx-graph';

/**
 * Preprocessing presets: what each family of classifiers expects of its input (channels and their
 * order, normalisation, resize policy). `fool models add --preset P` fills a manifest from one.
 */

/** The input size a preset assumes when the graph leaves it symbolic. */
export const PRESET_DEFAULT_SIDE: Record<PresetName, number> = { mnist: 28, 'caffe-imagenet': 227, 'tf-imagenet': 224, 'torch-imagenet': 224 };

/** The preset's input spec for a graph input `name` of the given layout and size. */
export function presetInput(preset: PresetName, g: { name: string; layout: 'NCHW' | 'NHWC'; height: number; width: number }): InputSpec {
  const base = { name: g.name, layout: g.layout, height: g.height, width: g.width };
  switch (preset) {
    case 'mnist':
      // Caffe's LeNet: p / 256 (0.00390625, exact in float), grey, stretched to 28x28.
      return { ...base, channels: 1, channelOrder: 'RGB', scale: 1 / 256, mean: [0], std: [1], resize: 'stretch' };
    case 'caffe-imagenet':
      // Caffe's ImageNet models: BGR, mean subtracted, 256 then a 227 (or 224) centre crop.
      return { ...base, channels: 3, channelOrder: 'BGR', scale: 1, mean: [104, 117, 123], std: [1], resize: 'crop', resizeTo: 256 };
    case 'tf-imagenet':
      // TF-slim Inception/MobileNet: [-1, 1], central crop of 87.5%.
      return { ...base, channels: 3, channelOrder: 'RGB', scale: 1 / 127.5, mean: [1], std: [1], resize: 'crop', resizeTo: Math.round(g.height / 0.875) };
    case 'torch-imagenet':
      // torchvision: ImageNet mean/std on [0, 1], resize 256 then crop 224 (ratio 0.875).
      return {
        ...base,
        channels: 3,
        channelOrder: 'RGB',
        scale: 1 / 255,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        resize: 'crop',
        resizeTo: Math.round(g.height / 0.875),
      };
  }
}

/** What a preset manifest needs beyond the graph (the options of `fool models add`). */
export interface PresetManifestOptions {
  name: string;
  labelOffset?: number;
  outputKind?: 'probabilities' | 'logits';
  output?: string;
  description?: string;
}

function numeric(d: Dim | undefined): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** A manifest for a graph from one of the presets; sizes come from the graph itself. */
export function presetManifest(preset: PresetName, g: GraphSummary, opts: PresetManifestOptions, classes: number, file: string, labels: string): Manifest {
  if (g.inputs.length !== 1) {
    throw new FoolError(
      'MISMATCH',
      `the graph has ${g.inputs.length} runtime inputs (${g.inputs.map((i) => i.name).join(', ')}); an image classifier has one`,
      'Export the model with a single image input',
    );
  }
  const input = g.inputs[0];
  if (input.dims.length !== 4) {
    throw new FoolError(
      'MISMATCH',
      `the graph's input "${input.name}" has shape [${input.dims.join(', ')}], not an image batch [N, C, H, W] or [N, H, W, C]`,
      'Only image classifiers can be registered',
    );
  }
  const [, d1, d2, d3] = input.dims;
  const want = preset === 'mnist' ? 1 : 3;
  // Channels first unless only the last axis looks like channels.
  const layout = numeric(d3) === want && numeric(d1) !== want ? 'NHWC' : 'NCHW';
  const [h, w] = layout === 'NCHW' ? [numeric(d2), numeric(d3)] : [numeric(d1), numeric(d2)];
  const defaults = PRESET_DEFAULT_SIDE[preset];
  const height = h ?? defaults;
  const width = w ?? defaults;
  const output = opts.output ?? pickOutput(g);
  const out = g.outputs.find((o) => o.name === output);
  if (!out) {
    throw new FoolError('MISMATCH', `the graph has no output "${output}"`, `Its outputs are: ${g.outputs.map((o) => o.name).join(', ')}`);
  }
  const kind = opts.outputKind ?? (out.producer === 'Softmax' ? 'probabilities' : 'logits');
  const parse = (raw: unknown): Manifest => {
    const r = ManifestSchema.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new FoolError('BAD_INPUT', `the model's manifest is invalid: ${i.path.join('.')}: ${i.message}`, 'Check the options given to "fool models add"');
    }
    return r.data;
  };
  const common = { name: opts.name, file, description: opts.description, preset, labels, labelOffset: opts.labelOffset ?? 0, classes };
  const spec = presetInput(preset, { name: input.name, layout, height, width });
  return parse({ ...common, input: spec, output: { name: output, kind } });
}

/** The output to read: one produced by a Softmax if there is one (SqueezeNet has prob and logits). */
function pickOutput(g: GraphSummary): string {
  return (g.outputs.find((o) => o.producer === 'Softmax') ?? g.outputs[0]).name;
}

