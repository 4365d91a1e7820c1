import { z } from 'zod';

/**
 * A model is an ONNX file plus this manifest. Everything that differs between classifiers
 * (input layout, channel order, normalisation, resizing, labels and their offset, whether the
 * output is already a probability) lives here, so that the engine treats every model alike.
 *
 * Preprocessing of a pixel p in 0..255 for channel c (in the model's channel order):
 *   x = (p * scale - mean[c]) / std[c]
 */
export const PRESET_NAMES = ['mnist', 'caffe-imagenet', 'tf-imagenet', 'torch-imagenet'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const positiveInt = z.number().int().positive();

export const InputSpecSchema = z
  .object({
    name: z.string().min(1),
    layout: z.enum(['NCHW', 'NHWC']),
    height: positiveInt,
    width: positiveInt,
    channels: z.union([z.literal(1), z.literal(3)]),
    channelOrder: z.enum(['RGB', 'BGR']),
    scale: z.number().positive(),
    mean: z.array(z.number()).min(1).max(3),
    std: z.array(z.number().positive()).min(1).max(3),
    /**
     * How a picture of another size becomes the input: 'stretch' resizes straight to
     * height x width; 'crop' resizes the shorter side to resizeTo, then takes the centre crop.
     */
    resize: z.enum(['stretch', 'crop']),
    resizeTo: positiveInt.optional(),
  })
  .superRefine((v, ctx) => {
    for (const key of ['mean', 'std'] as const) {
      if (v[key].length !== 1 && v[key].length !== v.channels) {
        ctx.addIssue({ code: 'custom', path: [key], message: `needs 1 or ${v.channels} values` });
      }
    }
    if (v.resize === 'crop' && v.resizeTo !== undefined && (v.resizeTo < v.height || v.resizeTo < v.width)) {
      ctx.addIssue({ code: 'custom', path: ['resizeTo'], message: 'must be at least the input size' });
    }
  });

export const ManifestSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-" only, up to 64 characters'),
  /** ONNX file, relative to the manifest's folder. */
  file: z.string().min(1),
  description: z.string().optional(),
  preset: z.enum(PRESET_NAMES).optional(),
  input: InputSpecSchema,
  output: z.object({
    name: z.string().min(1),
    kind: z.enum(['probabilities', 'logits']),
  }),
  /** Labels file (one class name a line), relative to the manifest's folder. */
  labels: z.string().min(1),
  /** Output index of class 0: MobileNet's leading "background" makes it 1. */
  labelOffset: z.number().int().min(0).default(0),
  /** Number of classes (lines of the labels file). */
  classes: positiveInt,
});

export type InputSpec = z.infer<typeof InputSpecSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

export interface ModelSummary {
  name: string;
  file: string;
  classes: number;
  source: 'shipped' | 'user';
  description?: string;
}

/** What the classification pipeline needs of a manifest, with its labels resolved. */
export interface ModelInfo {
  manifest: Manifest;
  /** Absolute path of the ONNX file. */
  path: string;
  labels: string[];
  source: 'shipped' | 'user';
}
