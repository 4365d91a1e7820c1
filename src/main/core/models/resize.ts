import { sharp } from './sharp';
import { FoolError } from '../../../shared/errors';
import type { InputSpec, ModelInfo } from '../../../shared/manifest';
import { decodeImage } from './decode';
import type { Image } from './image';

/**
 * Bringing an image to a model's input: the lab's one resize. Classification of files, the app
 * (individual detail, classify under another model, ablation), the transfer and other experiments,
 * and evolution's own images all pass through `fitToModel`, so one image gets the same pixels
 * under one model wherever it is fed.
 */

/**
 * The one kernel for model input: Lanczos-3 (sharp's default, what PIL/torchvision's antialiased
 * resize approximates). It enlarges a 28x28 digit smoothly for a 224-pixel network as a camera
 * would see it, rather than as blocks that no training photo looked like.
 */
export const RESIZE_KERNEL = 'lanczos3' as const;

export interface ImageShape {
  width: number;
  height: number;
  channels: 1 | 3;
}

/**
 * The image a model takes before preprocessing: the manifest's input size, or for 'crop' models
 * the resizeTo square whose centre preprocessing crops. Evolution renders at this size.
 */
export function imageShapeFor(info: Pick<ModelInfo, 'manifest'> | { manifest: { input: InputSpec } }): ImageShape {
  const s = info.manifest.input;
  if (s.resize === 'crop' && s.resizeTo) return { width: s.resizeTo, height: s.resizeTo, channels: s.channels };
  return { width: s.width, height: s.height, channels: s.channels };
}

/**
 * `img` at the model's image size (imageShapeFor), by the manifest's resize policy: 'stretch'
 * resizes straight to the input size; 'crop' scales the shorter side to the size and cuts the
 * centre (preprocessing then crops the input from it). An image of the right size passes
 * untouched. Channels are kept: grey <-> colour is preprocessing's job.
 */
export async function fitToModel(img: Image, spec: InputSpec): Promise<Image> {
  const s = imageShapeFor({ manifest: { input: spec } });
  if (img.width === s.width && img.height === s.height) return img;
  let pipeline = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).resize(s.width, s.height, { fit: spec.resize === 'crop' ? 'cover' : 'fill', position: 'centre', kernel: RESIZE_KERNEL });
  // sharp writes raw grey out as three equal channels unless told to stay grey.
  if (img.channels === 1) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== img.channels) throw new FoolError('INTERNAL', `resizing gave ${info.channels} channels for an image of ${img.channels}`);
  return { width: info.width, height: info.height, channels: img.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A file as the model's image: decoded (grey or colour as the model takes), then fitToModel. */
export async function loadImageForModel(file: string, spec: InputSpec): Promise<Image> {
  return fitToModel(await decodeImage(file, { channels: spec.channels }), spec);
}
