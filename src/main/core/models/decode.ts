import { existsSync, statSync } from 'node:fs';
import { sharp } from './sharp';
import { FoolError } from '../../../shared/errors';
import type { Image } from './image';

export interface DecodeOptions {
  /** Grey (1) or RGB (3) out, whatever the file holds. */
  channels: 1 | 3;
  /**
   * What transparency becomes: 'drop' discards alpha (the colour under it shows), 'black'
   * composites over black (an MNIST-like background for hand-made digits).
   */
  alpha?: 'drop' | 'black';
}

/**
 * Decodes an image file (PNG, JPEG, WebP, ...) at its own size, turned upright by its EXIF
 * orientation. Resizing is left to resize.ts, so a file and an in-memory image reach a model
 * through the same kernel.
 */
export async function decodeImage(file: string, opts: DecodeOptions): Promise<Image> {
  if (!existsSync(file)) throw new FoolError('NOT_FOUND', `image ${file} does not exist`, 'Check the path');
  if (statSync(file).isDirectory()) throw new FoolError('BAD_INPUT', `${file} is a folder, not an image`, 'Pass PNG or JPEG files (a shell glob such as DIR/*.png names the images in a folder)');
  try {
    let img = sharp(file, { failOn: 'error' }).rotate();
    img = opts.alpha === 'black' ? img.flatten({ background: '#000000' }) : img.removeAlpha();
    img = opts.channels === 1 ? img.greyscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    const c = opts.channels;
    let pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== c) {
      // greyscale() can leave 2 channels (grey + alpha) on some inputs: keep the first of each pixel.
      const out = new Uint8Array(info.width * info.height * c);
      for (let i = 0, j = 0; i < out.length; i += c, j += info.channels) for (let k = 0; k < c; k++) out[i + k] = pixels[j + k];
      pixels = out;
    }
    return { width: info.width, height: info.height, channels: c, data: pixels };
  } catch (e) {
    throw new FoolError('BAD_IMAGE', `cannot decode image ${file}: ${(e as Error).message.split('\n')[0]}`, 'Pass a PNG or JPEG file');
  }
}
