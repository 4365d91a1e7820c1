import { existsSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { FoolError } from '../../../shared/errors';
import type { InputSpec } from '../../../shared/manifest';
import type { PixelBatch } from './preprocess';

/**
 * Decodes an image file (PNG, JPEG, ...) with sharp and brings it to the size the model's
 * preprocessing expects: straight to the input size ('stretch'), or shorter side to resizeTo and
 * a centre crop ('crop'). Returns RGB or grey bytes, HWC.
 */
export async function loadImageForModel(file: string, spec: InputSpec): Promise<PixelBatch> {
  if (!existsSync(file)) throw new FoolError('NOT_FOUND', `image ${file} does not exist`, 'Check the path');
  if (statSync(file).isDirectory()) throw new FoolError('BAD_INPUT', `${file} is a folder, not an image`, 'Pass PNG or JPEG files (a shell glob such as DIR/*.png names the images in a folder)');
  const channels = spec.channels;
  try {
    let img = sharp(file, { failOn: 'error' }).rotate().removeAlpha();
    img = channels === 1 ? img.greyscale() : img.toColourspace('srgb');
    if (spec.resize === 'stretch') {
      img = img.resize(spec.width, spec.height, { fit: 'fill' });
    } else {
      const side = spec.resizeTo ?? Math.max(spec.width, spec.height);
      img = img.resize(side, side, { fit: 'cover', position: 'centre' }).extract({
        left: Math.floor((side - spec.width) / 2),
        top: Math.floor((side - spec.height) / 2),
        width: spec.width,
        height: spec.height,
      });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    const c = info.channels === 1 ? 1 : 3;
    let pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== c) {
      // greyscale() can leave 2 channels (grey + alpha) on some inputs: keep the first of each pixel.
      const out = new Uint8Array(info.width * info.height * c);
      for (let i = 0, j = 0; i < out.length; i += c, j += info.channels) for (let k = 0; k < c; k++) out[i + k] = pixels[j + k];
      pixels = out;
    }
    return { n: 1, height: info.height, width: info.width, channels: c, data: pixels };
  } catch (e) {
    throw new FoolError('BAD_IMAGE', `cannot decode image ${file}: ${(e as Error).message.split('\n')[0]}`, 'Pass a PNG or JPEG file');
  }
}

/** Writes HWC bytes as a PNG. */
export async function savePng(file: string, img: { width: number; height: number; channels: 1 | 3; data: Uint8Array }): Promise<void> {
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  })
    .png()
    .toFile(file);
}
