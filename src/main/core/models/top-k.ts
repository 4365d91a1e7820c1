import type { Prediction } from '../../../shared/api';

/**
 * The lab's one top-k: the k most probable classes of one row of probabilities, most probable
 * first, ties to the lower class. One pass with a small sorted list: K can be 1000 and k is 5.
 */
export function topK(probs: ArrayLike<number>, k: number): [cls: number, p: number][] {
  const top: [number, number][] = [];
  if (k <= 0) return top;
  for (let c = 0; c < probs.length; c++) {
    const p = probs[c];
    if (top.length === k && p <= top[k - 1][1]) continue;
    let i = top.length < k ? top.length : k - 1;
    while (i > 0 && top[i - 1][1] < p) i--;
    top.splice(i, 0, [c, p]);
    if (top.length > k) top.pop();
  }
  return top;
}

/** The most probable class (top-1; the lower class on ties). */
export function argmax(probs: ArrayLike<number>): number {
  return probs.length === 0 ? -1 : topK(probs, 1)[0][0];
}

/** topK with class names: what the API and the CLI show. */
export function topPredictions(probs: ArrayLike<number>, labels: string[], k: number): Prediction[] {
  return topK(probs, k).map(([c, p]) => ({ class: c, label: labels[c] ?? String(c), confidence: p }));
}
