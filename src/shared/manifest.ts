import { z } from 'zod';

/**
 * A model is an ONNX file plus this manifest. Everything that differs between classifiers
 * (input layout, channel order, normalisation, resizing, labels and their offset, whether the
 * output is already a probability) lives here, so that the engine treats every model alike.
 *
 * Preprocessing of a pixel p in 0..255 for channel c (in the model's channel order):
 *   x = (p * scale - mean[c]) / std[c]
 */
export const PRESET_NAMES = ['mnist', 'torch-mnist', 'caffe-imagenet', 'tf-imagenet', 'torch-imagenet'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const positiveInt = z.number().int().positive();

/** The input's fields; InputSpecSchema adds the checks between them. */
const InputSpecFields = z.object({
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
});

export const InputSpecSchema = InputSpecFields
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

/**
 * The preprocessing self-check run at registration: a model of a known task scored on data whose
 * labels are known (1,000 MNIST test digits; photos of known ImageNet classes shipped with the
 * project). A poor score almost always means a wrong manifest, so the check then tries the other
 * presets and channel orders and names the best.
 */
export interface SelfCheck {
  dataset: 'mnist-test-1000' | 'imagenet-photos';
  /** What `accuracy` counts: top-1 (MNIST) or top-5 hits (photos). */
  metric: 'top-1' | 'top-5';
  n: number;
  accuracy: number;
  /** The score below which the preprocessing is taken as wrong. */
  threshold: number;
  passed: boolean;
  /** The flags the model was scored with (relative to its preset). */
  flags: string;
  /** Every preprocessing tried (presets, channel orders, usual normalisations), best first. */
  alternatives?: { flags: string; accuracy: number; overrides: ManifestOverrides }[];
  /** Set when the self-check replaced the asked-for preprocessing (catalogue downloads): what was asked. */
  replaced?: { flags: string; accuracy: number };
  /** One line for people: the score, and when poor what scored best and the command to use. */
  message: string;
  checkedAt: string;
}

export interface ModelSummary {
  name: string;
  file: string;
  classes: number;
  source: 'shipped' | 'user';
  description?: string;
  /** The self-check stored at registration (user models; absent when skipped with --no-check). */
  check?: SelfCheck;
  /** Set when the model's files are gone (a lab copied without its .models folder): what is missing. */
  missing?: string;
  /** Its stored evaluations (models.eval, fool models eval), latest first; absent when never evaluated. */
  evaluations?: ModelEvaluation[];
}

/** A model's accuracy on a test set, as the last evaluation measured it (kept in the lab). */
export interface ModelEvaluation {
  dataset: string;
  /** Images evaluated. */
  n: number;
  accuracy: number;
  seconds: number;
  evaluatedAt: string;
}

/**
 * What `fool models add` (and the API's models.add) may set on top of a preset or a manifest file,
 * one field per flag. The CLI turns its flags into this; the app sends it as is.
 */
export const ManifestOverridesSchema = z
  .object({
    preset: z.enum(PRESET_NAMES).optional(),
    channels: z.enum(['grey', 'rgb', 'bgr']).optional(),
    layout: z.enum(['NCHW', 'NHWC']).optional(),
    height: positiveInt.optional(),
    width: positiveInt.optional(),
    scale: z.number().positive().optional(),
    mean: z.array(z.number()).min(1).max(3).optional(),
    std: z.array(z.number().positive()).min(1).max(3).optional(),
    resize: z.enum(['stretch', 'crop']).optional(),
    resizeTo: positiveInt.optional(),
    output: z.string().min(1).optional(),
    outputKind: z.enum(['probabilities', 'logits']).optional(),
    labelOffset: z.number().int().min(0).optional(),
    description: z.string().optional(),
  })
  .strict();
export type ManifestOverrides = z.infer<typeof ManifestOverridesSchema>;

/**
 * A manifest file given with --manifest or found beside the model (FILE.json, as `fool train`
 * writes it): any field of a manifest, each optional, so that a file can hold only what differs
 * from a preset. Unknown fields are refused (a typo must not be silently ignored).
 */
export const ManifestFileSchema = z
  .object({
    name: z.string().optional(),
    file: z.string().optional(),
    description: z.string().optional(),
    preset: z.enum(PRESET_NAMES).optional(),
    input: InputSpecFields
      .partial()
      .strict()
      .optional(),
    output: z.object({ name: z.string().min(1), kind: z.enum(['probabilities', 'logits']) }).partial().strict().optional(),
    labels: z.string().min(1).optional(),
    labelOffset: z.number().int().min(0).optional(),
    classes: positiveInt.optional(),
    /** Written by `fool models add` beside a stored model; ignored on input. */
    source: z.string().optional(),
  })
  .strict();
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/** What the classification pipeline needs of a manifest, with its labels resolved. */
export interface ModelInfo {
  manifest: Manifest;
  /** Absolute path of the ONNX file. */
  path: string;
  labels: string[];
  source: 'shipped' | 'user';
  check?: SelfCheck;
}

/**
 * An entry of the catalogue of public classifiers (`fool models get`, the API's models.catalogue):
 * where to download it, its pinned size and SHA-256, and the manifest that fits it.
 */
export const CatalogueEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    title: z.string(),
    url: z.string().url(),
    bytes: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    preset: z.enum(PRESET_NAMES),
    /** 'imagenet': the shipped 1000 class names; 'digits': 0-9. */
    labels: z.enum(['imagenet', 'digits']),
    /** Whether its manifest was run against the real file; if not, the self-check decides after the download. */
    verified: z.boolean(),
    note: z.string().optional(),
    /** Where the pin comes from. */
    source: z.string(),
    licence: z.string(),
  })
  .strict();
export type CatalogueEntry = z.infer<typeof CatalogueEntrySchema>;
