import { writeFile } from 'node:fs/promises';
import { sharp, type OverlayOptions, type Sharp } from './sharp';
import type { Image } from './image';

/**
 * The lab's one PNG writer: champions, thumbnails, exports, fooling sets, contact sheets and
 * report plots are all encoded here (sharp/libpng), so every PNG the lab writes is encoded alike.
 */

function raw(img: Image): Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: img.channels } });
}

/**
 * `img` as PNG bytes; with `size`, scaled to that many pixels on its longer side for display:
 * nearest-neighbour when enlarging (MNIST pixels stay crisp squares), Lanczos when shrinking, or
 * nearest-neighbour both ways with `nearest` (a CPPN node's stripes a few pixels apart stay stripes in
 * a thumbnail instead of averaging out to flat grey). (Display only: what a model sees is resized
 * by resize.ts.)
 */
export function encodePng(img: Image, opts: { size?: number; nearest?: boolean } = {}): Promise<Buffer> {
  let s = raw(img);
  const side = Math.max(img.width, img.height);
  if (opts.size !== undefined && opts.size !== side) {
    s = s.resize(opts.size, opts.size, { fit: 'inside', kernel: opts.nearest || opts.size > side ? 'nearest' : 'lanczos3' });
  }
  return s.png().toBuffer();
}

/** Writes `img` (optionally scaled for display, as encodePng) to `file`. */
export async function writePng(file: string, img: Image, opts: { size?: number } = {}): Promise<void> {
  await writeFile(file, await encodePng(img, opts));
}

/** An SVG document (a report's plot) rasterised to a PNG file. */
export async function writeSvgAsPng(file: string, svg: string): Promise<void> {
  await sharp(Buffer.from(svg)).png().toFile(file);
}

/** A sheet of PNG tiles and SVG overlays on a plain background (the export's contact sheet). */
export async function writeSheetPng(file: string, sheet: { width: number; height: number; background: string; layers: OverlayOptions[] }): Promise<void> {
  await sharp({ create: { width: sheet.width, height: sheet.height, channels: 3, background: sheet.background } })
    .composite(sheet.layers)
    .png()
    .toFile(file);
}
