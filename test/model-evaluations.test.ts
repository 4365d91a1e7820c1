import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from '../src/main/core/lab';
import { fool, foolJson, tempDir } from './helpers';

interface Evaluation {
  dataset: string;
  n: number;
  accuracy: number;
  seconds: number;
  evaluatedAt: string;
}

/** An evaluation (models.eval: the Models page's button, fool models eval) is kept with the model. */
describe('model evaluations', () => {
  it('fool models list and show show the last evaluation after it ran', async () => {
    const db = join(tempDir(), 'lab.db');
    const before = await foolJson<{ models: { name: string; evaluations?: Evaluation[] }[] }>(['models', 'list', '--db', db]);
    expect(before.models.find((m) => m.name === 'lenet-mnist')!.evaluations).toBeUndefined();

    const ev = await foolJson<{ accuracy: number; n: number; evaluatedAt: string }>(['models', 'eval', 'lenet-mnist', '--db', db]);
    expect(ev.n).toBe(10000);
    const list = await foolJson<{ models: { name: string; evaluations?: Evaluation[] }[] }>(['models', 'list', '--db', db]);
    expect(list.models.find((m) => m.name === 'lenet-mnist')!.evaluations).toEqual([{ dataset: 'mnist-test', n: 10000, accuracy: ev.accuracy, seconds: expect.any(Number), evaluatedAt: ev.evaluatedAt }]);
    const text = await fool(['models', 'list', '--db', db]);
    expect(text.stdout).toMatch(/accuracy/);
    expect(text.stdout).toMatch(/lenet-mnist\s+10\s+shipped\s+-\s+\d\d\.\d\d% \(mnist-test\)/);
    const show = await fool(['models', 'show', 'lenet-mnist', '--db', db]);
    expect(show.stdout).toMatch(/eval\s+\d\d\.\d\d% of 10000 images of mnist-test/);
    const shown = await foolJson<{ evaluations: Evaluation[] }>(['models', 'show', 'lenet-mnist', '--db', db]);
    expect(shown.evaluations).toHaveLength(1);
  });

  it('a new evaluation replaces the old; removing a model forgets its evaluations', async () => {
    const lab = new Lab(join(tempDir(), 'lab.db'));
    try {
      await lab.models.add(join(__dirname, '../resources/models/lenet-mnist.onnx'), { name: 'mine', preset: 'mnist', check: false });
      lab.models.saveEvaluation('mine', { dataset: 'mnist-test', n: 10000, accuracy: 0.9, seconds: 1 });
      lab.models.saveEvaluation('mine', { dataset: 'mnist-test', n: 10000, accuracy: 0.95, seconds: 1 });
      expect(lab.models.evaluations('mine').map((e) => e.accuracy)).toEqual([0.95]);
      expect(() => lab.models.saveEvaluation('nobody', { dataset: 'mnist-test', n: 1, accuracy: 1, seconds: 1 })).toThrow(/no model named "nobody"/);
      lab.models.remove('mine');
      await lab.models.add(join(__dirname, '../resources/models/lenet-mnist.onnx'), { name: 'mine', preset: 'mnist', check: false });
      expect(lab.models.evaluations('mine')).toEqual([]);
    } finally {
      lab.close();
    }
  });
});
