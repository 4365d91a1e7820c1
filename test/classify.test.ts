import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fool, foolJson, HAS_SHARED, IMAGES, MODELS, tempDir } from './helpers';

interface Top {
  class: number;
  label: string;
  confidence: number;
}

describe.skipIf(!HAS_SHARED)('real classifiers through their manifests', () => {
  let db: string;
  beforeAll(async () => {
    db = join(tempDir(), 'lab.db');
    const adds = [
      ['models', 'add', MODELS.squeezenet, '--name', 'squeezenet', '--preset', 'caffe-imagenet', '--labels', MODELS.synsets],
      ['models', 'add', MODELS.mobilenet, '--name', 'mobilenet', '--preset', 'tf-imagenet', '--labels', MODELS.synsets, '--label-offset', '1'],
      ['models', 'add', MODELS.lenet, '--name', 'lenet-caffe', '--preset', 'mnist'],
    ];
    for (const a of adds) {
      const r = await fool([...a, '--db', db]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  const classify = async (model: string, image: string) =>
    (await foolJson<{ results: { file: string; top: Top[] }[] }>(['classify', '--model', model, '--db', db, '--top', '5', join(IMAGES, image)])).results[0].top;

  it('SqueezeNet puts "kite" or "bald eagle" in the top 2 for eagle.jpg', async () => {
    const top = await classify('squeezenet', 'eagle.jpg');
    expect(top.slice(0, 2).some((t) => /^n01608432 kite|bald eagle/.test(t.label))).toBe(true);
    expect(top[0].confidence).toBeGreaterThan(0.3);
    const sum = top.reduce((a, t) => a + t.confidence, 0);
    expect(sum).toBeLessThanOrEqual(1.0001);
  });

  it('MobileNet v2 with the 1000 synsets and label offset 1 names classes exactly as SqueezeNet does', async () => {
    const mob = await classify('mobilenet', 'eagle.jpg');
    expect(mob.slice(0, 2).some((t) => /^n01608432 kite|bald eagle/.test(t.label))).toBe(true);
    const sq = await classify('squeezenet', 'eagle.jpg');
    // Same class index, same name, under both models: class c means one thing.
    const shared = mob.filter((m) => sq.some((s) => s.class === m.class));
    expect(shared.length).toBeGreaterThan(0);
    for (const m of shared) expect(sq.find((s) => s.class === m.class)!.label).toBe(m.label);
    expect(mob.find((t) => t.label.includes('bald eagle'))?.class).toBe(22);
  });

  it('a dog photo is a dog breed or a dogsled under both ImageNet models', async () => {
    for (const model of ['squeezenet', 'mobilenet']) {
      const top = await classify(model, 'dog.jpg');
      // ImageNet dog breeds are classes 151..268; dogsled is 537.
      expect(top[0].class === 537 || (top[0].class >= 151 && top[0].class <= 268), `${model}: ${top[0].label}`).toBe(true);
    }
  });

  it("Caffe's LeNet scores at least 99.0% on the 10,000 MNIST test images", async () => {
    const r = await foolJson<{ model: string; dataset: string; n: number; accuracy: number }>(['models', 'eval', 'lenet-caffe', '--dataset', 'mnist-test', '--db', db]);
    expect(r).toMatchObject({ model: 'lenet-caffe', dataset: 'mnist-test', n: 10000 });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.99);
  });

  it('fool doctor reports the provider and why', async () => {
    const r = await foolJson<{ provider: string; reason: string; workers: number; threadsPerWorker: number; onnxruntime: string }>(['doctor', '--db', db]);
    expect(['cpu', 'cuda']).toContain(r.provider);
    expect(r.reason.length).toBeGreaterThan(10);
    expect(r.workers).toBeGreaterThanOrEqual(1);
    expect(r.onnxruntime).toMatch(/^\d+\.\d+/);
  });
});
