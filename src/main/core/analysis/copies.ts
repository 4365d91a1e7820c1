import { FoolError } from '../../../shared/errors';
import type { Image } from '../models/image';
import { ablate, boxesMask, type Fill, type MotifGroup } from './motifs';

/**
 * The paper's measure on one motif, in pixel space: keep one copy and remove all the others ("keep
 * one copy"), and, as the control, remove the same area at random places (seeded draws). Pure:
 * pixels in, pixels out; the caller classifies.
 */

/**
 * The control mask: the removal mask moved by a random offset (cyclically, so its shape and pixel
 * count stay exactly the same), the offset that least overlaps the motif's copies out of a few
 * random tries: the same area, taken somewhere else.
 */
export function controlMask(mask: Uint8Array, copies: Uint8Array, width: number, height: number, random: () => number, tries = 32): Uint8Array {
  let best: Uint8Array = mask;
  let bestOverlap = Number.POSITIVE_INFINITY;
  for (let t = 0; t < tries && bestOverlap > 0; t++) {
    const dx = 1 + Math.floor(random() * (width - 1));
    const dy = Math.floor(random() * height);
    const m = new Uint8Array(mask.length);
    let overlap = 0;
    for (let y = 0; y < height; y++) {
      const row = ((y + dy) % height) * width;
      for (let x = 0; x < width; x++) {
        if (!mask[y * width + x]) continue;
        const j = row + ((x + dx) % width);
        m[j] = 1;
        overlap += copies[j];
      }
    }
    if (overlap < bestOverlap) {
      best = m;
      bestOverlap = overlap;
    }
  }
  return best;
}

export interface KeepOneCopy {
  /** The image the network is shown: every copy but `kept` filled. */
  image: Image;
  mask: Uint8Array;
  maskedPixels: number;
  kept: number;
  /** All copies (kept one included): what the control tries to avoid. */
  copiesMask: Uint8Array;
}

/** Removes every copy of the motif except copy `keep` (default: the first); what the kept copy covers stays. */
export function keepOneCopy(img: Image, motif: MotifGroup, fill: Fill, keep = 0): KeepOneCopy {
  if (motif.copies.length < 2) throw new FoolError('BAD_INPUT', `the motif has ${motif.copies.length} copy; keeping one removes nothing`, 'Choose a motif with two or more copies');
  if (!Number.isInteger(keep) || keep < 0 || keep >= motif.copies.length) {
    throw new FoolError('BAD_INPUT', `copy ${keep} does not exist: the motif has copies 0..${motif.copies.length - 1}`, 'Name one of its copies');
  }
  const mask = boxesMask(img.width, img.height, motif.copies.filter((_, i) => i !== keep));
  const kept = boxesMask(img.width, img.height, [motif.copies[keep]]);
  for (let i = 0; i < mask.length; i++) if (kept[i]) mask[i] = 0;
  const a = ablate(img, mask, fill);
  return { image: a.image, mask, maskedPixels: a.maskedPixels, kept: keep, copiesMask: boxesMask(img.width, img.height, motif.copies) };
}

/** `draws` control images: the removal mask moved to random places, one seeded draw each. */
export function randomControls(img: Image, k: KeepOneCopy, fill: Fill, draws: number, random: () => number): { images: Image[]; masks: Uint8Array[] } {
  const images: Image[] = [];
  const masks: Uint8Array[] = [];
  for (let d = 0; d < draws; d++) {
    const m = controlMask(k.mask, k.copiesMask, img.width, img.height, random, 8);
    masks.push(m);
    images.push(ablate(img, m, fill).image);
  }
  return { images, masks };
}
