import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams } from '../src/shared/api';
import { LabApi } from '../src/main/core/api';
import { runTransfer } from '../src/main/core/experiments/transfer';
import { individualImage } from '../src/main/core/individual-image';
import { Lab } from '../src/main/core/lab';
import { Classifier } from '../src/main/core/models/classifier';
import { decodeModel, encodeModel, makeNode, valueInfo } from '../src/main/core/models/onnx-graph';
import { writePng } from '../src/main/core/models/png';
import { fitToModel, imageShapeFor, RESIZE_KERNEL } from '../src/main/core/models/resize';
import { apiResult, HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';

/**
 * One image, one model, one input: the app (individual.classify), the transfer experiment and
 * `fool classify` on the exported PNG bring a champion to a model of another size through the
 * same resize (models/resize.ts), so they report the same probabilities for it.
 */

const SHIPPED = join(__dirname, '../resources/models/lenet-mnist.onnx');
const HAS_MODEL = existsSync(SHIPPED);

/**
 * The shipped LeNet behind a 2x2 average pool: an MNIST classifier that takes 56x56 images, so a
 * 28x28 champion must be resized to reach it.
 */
function lenet56(out: string): void {
  const m = decodeModel(readFileSync(SHIPPED));
  const g = m.graph!;
  for (const n of g.node ?? []) n.input = (n.input ?? []).map((i) => (i === 'data' ? 'data28' : i));
  g.node = [makeNode('AveragePool', ['data'], ['data28'], { kernel_shape: [2, 2], strides: [2, 2] }), ...(g.node ?? [])];
  g.input = (g.input ?? []).map((i) => (i.name === 'data' ? valueInfo('data', ['N', 1, 56, 56]) : i));
  writeFileSync(out, encodeModel(m));
}

describe.skipIf(!HAS_MODEL)('model input has one home: the same pixels on every path into a model', () => {
  const dir = tempDir('fool-input-');
  let api: LabApi;
  let runId = 0;

  const ok = <M extends ApiMethod>(method: M, params: ApiParams<M>) => apiResult(api, method, params);

  beforeAll(async () => {
    api = new LabApi(new Lab(join(dir, 'lab.db')), { classifier: { workers: 1 }, renderWorkers: 1 });
    const done = new Promise<ApiEvent>((resolve) => api.onEvent((e) => e.type === 'run.status' && e.status !== 'running' && resolve(e)));
    runId = (await ok('runs.start', { model: 'lenet-mnist', encoding: 'cppn', generations: 2, batch: 20, seed: 11 })).runId;
    expect(await done).toMatchObject({ status: 'finished' });
    lenet56(join(dir, 'lenet-56.onnx'));
    await api.lab.models.add(join(dir, 'lenet-56.onnx'), { name: 'lenet-56', preset: 'mnist' });
  });
  afterAll(() => api?.close());

  it('the app, the transfer experiment and fool classify report one probability for a champion under a model of another size', async () => {
    const info = api.lab.models.get('lenet-56');
    expect(imageShapeFor(info)).toEqual({ width: 56, height: 56, channels: 1 });
    const champions = await ok('runs.champions', { runId });
    expect(champions.length).toBeGreaterThan(0);
    expect(individualImage(api.lab, runId, champions[0].individualId)).toMatchObject({ width: 28, height: 28 });

    const { result } = await runTransfer(api.lab, { runs: [runId], models: ['lenet-56'] }, { classifier: { workers: 1 } });
    let compared = 0;
    for (const c of champions) {
      const fromTransfer = result.images.find((i) => i.individualId === c.individualId && i.class === c.class)!.confidence['lenet-56'];
      // The app shows the top 5 of the 10 digits: compare where the champion's class is among them.
      const fromApp = (await ok('individual.classify', { runId, individualId: c.individualId, model: 'lenet-56' })).top.find((p) => p.class === c.class);
      if (!fromApp) continue;
      expect(fromApp.confidence, `class ${c.class}`).toBeCloseTo(fromTransfer, 6);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);

    // `fool classify` on the champion exported as a 28x28 PNG: decoded, then the same resize.
    const c = champions[0];
    const file = join(dir, 'champion.png');
    await writePng(file, individualImage(api.lab, runId, c.individualId));
    const [fromFile] = await api.lab.classifyFiles('lenet-56', [file], 10, { workers: 1 });
    const fromTransfer = result.images.find((i) => i.individualId === c.individualId && i.class === c.class)!.confidence['lenet-56'];
    expect(fromFile.top.find((p) => p.class === c.class)!.confidence).toBeCloseTo(fromTransfer, 6);
  });

  it.skipIf(!HAS_SHARED)(`an MNIST champion under SqueezeNet (grey 28x28 to a 256 crop): the app and fool classify agree (${HAS_SHARED ? 'real SqueezeNet' : SKIP_SHARED_REASON})`, async () => {
    await api.lab.models.add(MODELS.squeezenet, { name: 'squeezenet', preset: 'caffe-imagenet', labels: MODELS.synsets });
    const c = (await ok('runs.champions', { runId }))[0];
    const fromApp = (await ok('individual.classify', { runId, individualId: c.individualId, model: 'squeezenet' })).top;
    const file = join(dir, 'champion-sq.png');
    await writePng(file, individualImage(api.lab, runId, c.individualId));
    const [fromFile] = await api.lab.classifyFiles('squeezenet', [file], 5, { workers: 1 });
    expect(fromFile.top.map((p) => p.class)).toEqual(fromApp.map((p) => p.class));
    fromFile.top.forEach((p, i) => expect(p.confidence).toBeCloseTo(fromApp[i].confidence, 6));
  });

  it('another kernel would feed other pixels and other probabilities (so the test above can fail)', async () => {
    const info = api.lab.models.get('lenet-56');
    const c = (await ok('runs.champions', { runId }))[0];
    const img = individualImage(api.lab, runId, c.individualId);
    const ours = await fitToModel(img, info.manifest.input);
    expect(RESIZE_KERNEL).toBe('lanczos3');
    // Nearest-neighbour enlarging (what the app used to do) gives other pixels for the same image.
    const nearest = new Uint8Array(
      await sharp(Buffer.from(img.data), { raw: { width: 28, height: 28, channels: 1 } }).resize(56, 56, { fit: 'fill', kernel: 'nearest' }).toColourspace('b-w').raw().toBuffer(),
    );
    expect(nearest.length).toBe(ours.data.length);
    expect(Buffer.from(nearest).equals(Buffer.from(ours.data))).toBe(false);
    const classifier = await Classifier.open(info, { workers: 1 });
    try {
      const a = await classifier.classify({ n: 1, ...ours });
      const b = await classifier.classify({ n: 1, width: 56, height: 56, channels: 1, data: nearest });
      const app = (await ok('individual.classify', { runId, individualId: c.individualId, model: 'lenet-56' })).top;
      // The app's numbers are those of our pixels, and they differ from nearest's beyond the tolerance above.
      for (const p of app) expect(p.confidence).toBeCloseTo(a[p.class], 6);
      expect(Math.max(...Array.from(a, (v, k) => Math.abs(v - b[k])))).toBeGreaterThan(1e-5);
    } finally {
      await classifier.close();
    }
  });
});
