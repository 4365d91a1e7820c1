import { describe, expect, it } from 'vitest';
import { argmax, topK, topPredictions } from '../src/main/core/models/top-k';
import { rng } from './helpers';

/** The lab's one top-k (evolution's stored top 5, the app's predictions, ascent, accuracy). */
describe('topK', () => {
  it('agrees with a full stable sort on 1000 random rows of 1000 classes, k = 1, 5 and 1000', () => {
    const r = rng(3);
    for (let t = 0; t < 1000; t++) {
      // Few distinct values, so ties are common: the lower class must come first.
      const row = Float32Array.from({ length: 1000 }, () => Math.floor(r() * 50) / 50);
      const sorted = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
      for (const k of t % 100 === 0 ? [1, 5, 1000] : [1, 5]) {
        expect(topK(row, k).map(([c]) => c)).toEqual(sorted.slice(0, k));
      }
      expect(argmax(row)).toBe(sorted[0]);
    }
  });

  it('returns all classes when k exceeds them, nothing for k = 0, and names classes', () => {
    expect(topK([0.2, 0.5, 0.3], 10)).toEqual([[1, 0.5], [2, 0.3], [0, 0.2]]);
    expect(topK([0.2, 0.5], 0)).toEqual([]);
    expect(argmax([])).toBe(-1);
    expect(topPredictions([0.1, 0.9], ['cat'], 2)).toEqual([{ class: 1, label: '1', confidence: 0.9 }, { class: 0, label: 'cat', confidence: 0.1 }]);
  });
});
