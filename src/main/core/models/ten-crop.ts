import { FoolError } from '../../../shared/errors';
import type { PixelBatch } from './image';

/**
 * Caffe's oversample (the original's fitness, `--ten-crop`): from each image, 10 crops of the
 * model's input size, the 4 corners and the centre and their mirror images (left-right), image i's
 * crops at 10i..10i+9. An image of the input size gives 5 identical crops and 5 mirrored ones.
 * Cut in the classification workers (classify-worker.ts), next to the rest of the preprocessing.
 */
export function tenCrops(batch: PixelBatch, h: number, w: number): PixelBatch {
  const { n, height: H, width: W, channels: C, data } = batch;
  if (H < h || W < w) throw new FoolError('MISMATCH', `ten-crop needs images of at least ${w}x${h}, got ${W}x${H}`, 'Render larger images or drop --ten-crop');
  const at: [number, number][] = [[0, 0], [W - w, 0], [0, H - h], [W - w, H - h], [Math.floor((W - w) / 2), Math.floor((H - h) / 2)]];
  const per = h * w * C;
  const out = new Uint8Array(n * 10 * per);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 10; c++) {
      const [x0, y0] = at[c % 5];
      const mirror = c >= 5;
      const o = (i * 10 + c) * per;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sx = x0 + (mirror ? w - 1 - x : x);
          const s = ((i * H + y0 + y) * W + sx) * C;
          const d = o + (y * w + x) * C;
          for (let ch = 0; ch < C; ch++) out[d + ch] = data[s + ch];
        }
      }
    }
  }
  return { n: n * 10, height: h, width: w, channels: C, data: out };
}

/**
 * The probabilities of 10n crops (image i's at 10i..10i+9) -> n rows, each the mean over its ten
 * crops: summed in crop order in float32, then divided by 10 (runs made before the crops moved into
 * the workers were scored so; a resumed run must score the same).
 */
export function averageTenCrops(probs: Float32Array, n: number, K: number): Float32Array {
  if (probs.length !== n * 10 * K) throw new RangeError(`expected ${n * 10 * K} probabilities, got ${probs.length}`);
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 10; c++) for (let k = 0; k < K; k++) out[i * K + k] += probs[(i * 10 + c) * K + k];
    for (let k = 0; k < K; k++) out[i * K + k] /= 10;
  }
  return out;
}
