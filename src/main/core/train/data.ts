import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FoolError } from '../../../shared/errors';
import { loadMnist } from '../data/mnist';
import { decodeImage } from '../models/decode';
import type { Image } from '../models/image';
import { LENET_PIXELS, LENET_SIDE } from './lenet';

export { epochOrder, gather } from './batches';

/**
 * Training data: MNIST (plus an optional extra "fooling" class, oversampled), the seeded order of
 * every epoch, and mini-batches gathered as Caffe's input.
 */

export interface Dataset {
  n: number;
  images: Uint8Array; // n * 784
  labels: Uint8Array;
}

/** FNV-1a over the extra class's pixels: a resumed run must train on the same images. */
export function hashImages(images: Uint8Array[]): string {
  if (images.length === 0) return '';
  let h = 0x811c9dc5;
  for (const img of images) for (let i = 0; i < img.length; i++) h = Math.imul(h ^ img[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * MNIST's training images plus the extra class (label 10), oversampled by repetition to about the
 * size of one digit class so that the network cannot ignore it (the retraining experiment).
 */
export function trainingSet(limit: number, extra: Uint8Array[]): Dataset {
  const mnist = loadMnist('train');
  const n0 = limit > 0 ? Math.min(limit, mnist.n) : mnist.n;
  const copies = extra.length === 0 ? 0 : Math.max(extra.length, Math.round(n0 / 10));
  const n = n0 + copies;
  const images = new Uint8Array(n * LENET_PIXELS);
  const labels = new Uint8Array(n);
  images.set(mnist.images.subarray(0, n0 * LENET_PIXELS));
  labels.set(mnist.labels.subarray(0, n0));
  for (let i = 0; i < copies; i++) {
    images.set(extra[i % extra.length], (n0 + i) * LENET_PIXELS);
    labels[n0 + i] = 10;
  }
  return { n, images, labels };
}

export function testSet(limit: number): Dataset {
  const t = loadMnist('test');
  const n = limit > 0 ? Math.min(limit, t.n) : t.n;
  return { n, images: t.images.subarray(0, n * LENET_PIXELS), labels: t.labels.subarray(0, n) };
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * The images of `dir` as 28x28 grey bytes. Every image must already be 28x28 (colour is turned
 * grey; other sizes are refused rather than resized, since resizing would change what fooled the
 * network). Fails before any training starts.
 */
export async function loadExtraClassFolder(dir: string): Promise<Uint8Array[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FoolError('NOT_FOUND', `${dir} is not a folder`, 'Pass --extra-class a folder of 28x28 PNG or JPEG images');
  }
  const files = readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort();
  if (files.length === 0) {
    throw new FoolError('NOT_FOUND', `${dir} holds no PNG or JPEG images`, 'Put the extra class\'s 28x28 images (.png, .jpg) in it');
  }
  const out: Uint8Array[] = [];
  for (const f of files) {
    const file = join(dir, f);
    let img: Image;
    try {
      // Transparent pixels become background (black), colour becomes grey.
      img = await decodeImage(file, { channels: 1, alpha: 'black' });
    } catch (e) {
      // decodeImage's message names the file and the reason; the fix here is about the folder.
      throw new FoolError('BAD_IMAGE', (e as Error).message, 'Remove it from the folder or replace it with a PNG or JPEG');
    }
    if (img.width !== LENET_SIDE || img.height !== LENET_SIDE) {
      throw new FoolError(
        'MISMATCH',
        `${file} is ${img.width}x${img.height}; the extra class needs ${LENET_SIDE}x${LENET_SIDE} images (MNIST's size)`,
        'Resize the images to 28x28 yourself (they are not resized silently) or remove them',
      );
    }
    out.push(img.data.slice(0, LENET_PIXELS));
  }
  return out;
}
