import { FoolError } from '../../../shared/errors';

/**
 * The one image type of the lab: HWC bytes, 0..255, grey or RGB. Renderers, decoders, resizing,
 * preprocessing and PNG encoding all take and give it.
 */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  /** HWC bytes, 0..255. */
  data: Uint8Array;
}

/** A batch of same-size images in pixel space: n images of h x w x c bytes, one after another. */
export interface PixelBatch {
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** One batch of same-size images (grey and RGB are not mixed: resize them to one model first). */
export function stack(images: Image[]): PixelBatch {
  if (images.length === 0) throw new FoolError('INTERNAL', 'an empty batch of images');
  const { width, height, channels } = images[0];
  const per = width * height * channels;
  const data = new Uint8Array(images.length * per);
  images.forEach((im, i) => {
    if (im.width !== width || im.height !== height || im.channels !== channels) throw new FoolError('INTERNAL', 'images of one batch differ in size');
    data.set(im.data, i * per);
  });
  return { n: images.length, width, height, channels, data };
}
