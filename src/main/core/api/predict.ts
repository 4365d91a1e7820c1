import type { Prediction } from '../../../shared/api';
import type { Image } from '../models/image';
import { fitToModel } from '../models/resize';
import { topPredictions } from '../models/top-k';
import type { ApiContext } from './context';

/** An image classified by `model`: all probabilities and the top k, whatever the model's input size. */
export async function predict(ctx: ApiContext, model: string, img: Image, k = 5): Promise<{ probs: Float32Array; top: Prediction[] }> {
  const c = await ctx.openClassifier(model);
  // Another model may take another size: the one resize every caller uses (models/resize.ts).
  const input = await fitToModel(img, c.info.manifest.input);
  const probs = await c.classify({ n: 1, ...input });
  return { probs, top: topPredictions(probs, c.info.labels, k) };
}
