import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../src/shared/manifest';
import { isFoolError } from '../src/shared/errors';
import { loadMnist } from '../src/main/core/data/mnist';
import { decodeModel, encodeModel as encode } from '../src/main/core/models/onnx-graph';
import { buildLenet, initLenetWeights, lenetParams, readLenetWeights, type LenetWeights } from '../src/main/core/train/lenet';
import { epochOrder, settingsFor, trainLenet, trainLenetFile, type TrainSettings } from '../src/main/core/train/trainer';
import { paramLayout, stepRange } from '../src/main/core/train/optimiser';
import { SGD_WASM, SgdKernel } from '../src/main/core/train/sgd-kernel';
import { flatMemory, flatViews } from '../src/main/core/train/shared';

const dir = mkdtempSync(join(tmpdir(), 'fool-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small, quick run: 1,280 training images (20 batches), 500 test images. */
function small(seed: number, epochs: number, extra: Partial<TrainSettings> = {}): TrainSettings {
  return settingsFor('sgd', seed, epochs, { trainLimit: 1280, ...extra });
}
const QUICK = { testLimit: 500 };

function same(a: LenetWeights, b: LenetWeights): boolean {
  for (const [k, v] of a) if (!Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(b.get(k)!.buffer, b.get(k)!.byteOffset, b.get(k)!.byteLength))) return false;
  return true;
}

async function expectFoolError(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isFoolError(e), String(e)).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  expect((e as Error).message).toMatch(text);
}

async function png(file: string, w: number, h: number, channels: 1 | 3 = 1): Promise<void> {
  const raw = Buffer.alloc(w * h * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  await sharp(raw, { raw: { width: w, height: h, channels } }).png().toFile(file);
}

describe('LeNet graph', () => {
  it('initialises like Caffe (xavier weights, zero biases) from the seed', () => {
    const a = initLenetWeights(10, 7);
    expect(same(a, initLenetWeights(10, 7))).toBe(true);
    expect(same(a, initLenetWeights(10, 8))).toBe(false);
    for (const p of lenetParams(10)) {
      const w = a.get(p.name)!;
      if (p.bias) expect(w.every((v) => v === 0)).toBe(true);
      else {
        const bound = Math.sqrt(3 / p.fanIn);
        const max = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(max).toBeLessThanOrEqual(bound);
        expect(max).toBeGreaterThan(0.9 * bound);
      }
    }
  });

  it('reads back the weights it was built with', () => {
    const w = initLenetWeights(11, 3);
    const back = readLenetWeights(decodeModel(Buffer.from(encode(buildLenet(w, { classes: 11 })))));
    expect(back.classes).toBe(11);
    expect(same(w, back.weights)).toBe(true);
  });

  it('reads Caffe\'s trained lenet-caffe.onnx (same tensor names)', () => {
    const file = join(__dirname, '../../shared/models/lenet-caffe/lenet-caffe.onnx');
    if (!existsSync(file)) return;
    expect(readLenetWeights(decodeModel(readFileSync(file))).classes).toBe(10);
  });

  it('shuffles each epoch from the seed alone', () => {
    const a = epochOrder(1000, 1, 1);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect(a).toEqual(epochOrder(1000, 1, 1));
    expect(a).not.toEqual(epochOrder(1000, 1, 2));
    expect(a).not.toEqual(epochOrder(1000, 2, 1));
  });
});

describe('optimiser', () => {
  it('runs the kernel its source describes: sgd.wat, assembled with wabt, gives the embedded bytes', async () => {
    const wabt = await (await import('wabt')).default();
    const source = readFileSync(new URL('../src/main/core/train/sgd.wat', import.meta.url), 'utf8');
    const { buffer } = wabt.parseWat('sgd.wat', source, { simd: true, threads: true }).toBinary({});
    expect(Buffer.from(buffer).toString('base64')).toBe(SGD_WASM);
  });

  it("SGD's WebAssembly kernel gives the JavaScript loop's bits, for one and two gradients, over any range", () => {
    const { segments, total } = paramLayout(lenetParams(10));
    const memory = flatMemory(total, 1, 2);
    const { weights, state, grads } = flatViews(memory, total, 1, 2);
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
    for (const a of [weights, state[0], ...grads]) for (let i = 0; i < total; i++) a[i] = rnd() * 0.02;
    const plain = [weights, state[0], ...grads].map((a) => Float32Array.from(a));
    const before = Float32Array.from(weights);
    const settings = settingsFor('sgd', 1, 1);
    const kernel = new SgdKernel(memory);
    // Odd range ends, ranges across segments (weights and biases: other learning rates), many steps.
    for (const [from, to, k] of [[0, 215_540, 2], [215_540, total, 2], [3, 25_523, 1], [25_519, 25_571, 2]] as const) {
      for (let iter = 0; iter < 3; iter++) {
        stepRange({ settings, segments, weights, state: [state[0]], grads: grads.slice(0, k), iter, kernel }, from, to);
        stepRange({ settings, segments, weights: plain[0], state: [plain[1]], grads: plain.slice(2, 2 + k), iter }, from, to);
      }
    }
    expect(Buffer.from(weights.buffer, 0, total * 4).equals(Buffer.from(plain[0].buffer))).toBe(true);
    expect(Buffer.from(state[0].buffer, state[0].byteOffset, total * 4).equals(Buffer.from(plain[1].buffer))).toBe(true);
    expect(weights.filter((w, i) => w !== before[i]).length).toBeGreaterThan(total / 2); // the steps moved the weights
  });
});

describe('training', () => {
  it('is deterministic: the same seed gives bit-identical weights, another seed others', async () => {
    const a = await trainLenet(small(1, 1), QUICK);
    const b = await trainLenet(small(1, 1), QUICK);
    const c = await trainLenet(small(2, 1), QUICK);
    expect(same(a.weights, b.weights)).toBe(true);
    expect(same(a.weights, c.weights)).toBe(false);
    expect(a.history[0].loss).toBeLessThan(2.3); // learning, not diverging
    expect(Number.isFinite(a.history[0].loss)).toBe(true);
  });

  it('is deterministic with Adam too', async () => {
    const s = settingsFor('adam', 5, 1, { trainLimit: 640 });
    const a = await trainLenet(s, QUICK);
    const b = await trainLenet(s, QUICK);
    expect(same(a.weights, b.weights)).toBe(true);
    expect(a.history[0].testAccuracy).toBeGreaterThan(0.5);
  });

  it('resuming after epoch 1, or after a stop in epoch 2, equals an uninterrupted 2-epoch run', async () => {
    const whole = await trainLenet(small(3, 2), QUICK);

    const ckpt = join(dir, 'resume.onnx.ckpt');
    const first = await trainLenet(small(3, 1), { ...QUICK, checkpointPath: ckpt });
    expect(first.epochsDone).toBe(1);
    const rest = await trainLenet(small(3, 2), { ...QUICK, checkpointPath: ckpt, resume: true });
    expect(rest.epochsDone).toBe(2);
    expect(rest.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(same(whole.weights, rest.weights)).toBe(true);

    // Stop mid-epoch 2: the result and the checkpoint are epoch 1's; resuming finishes the same.
    const ckpt2 = join(dir, 'stop.onnx.ckpt');
    const abort = new AbortController();
    const stopped = await trainLenet(small(3, 2), {
      ...QUICK,
      checkpointPath: ckpt2,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.epoch === 2 && p.batch >= 5) abort.abort(); // progress comes every few batches
      },
    });
    expect(stopped.stopped).toBe(true);
    expect(stopped.epochsDone).toBe(1);
    expect(same(stopped.weights, first.weights)).toBe(true);
    const resumed = await trainLenet(small(3, 2), { ...QUICK, checkpointPath: ckpt2, resume: true });
    expect(same(whole.weights, resumed.weights)).toBe(true);

    // A checkpoint only resumes with the settings it was made with.
    await expectFoolError(trainLenet(small(4, 2), { checkpointPath: ckpt, resume: true }), 'MISMATCH', /seed/);
  });

  it('is deterministic for each worker count; the count is part of the settings a checkpoint resumes with', async () => {
    const ckpt = join(dir, 'workers.onnx.ckpt');
    const one = await trainLenet(small(6, 1, { trainLimit: 640, workers: 1 }), { ...QUICK, checkpointPath: ckpt });
    expect(same(one.weights, (await trainLenet(small(6, 1, { trainLimit: 640, workers: 1 }), QUICK)).weights)).toBe(true);
    // Three workers: shares of 21, 21 and 22 images, three gradients summed in worker order.
    const three = await trainLenet(small(6, 1, { trainLimit: 640, workers: 3 }), QUICK);
    expect(same(three.weights, (await trainLenet(small(6, 1, { trainLimit: 640, workers: 3 }), QUICK)).weights)).toBe(true);
    // Other counts sum the same gradients in another order: other bits, the same training.
    const two = await trainLenet(small(6, 1, { trainLimit: 640 }), QUICK);
    expect(same(one.weights, two.weights)).toBe(false);
    expect(Math.abs(one.history[0].loss - two.history[0].loss)).toBeLessThan(1e-3);
    expect(Math.abs(three.history[0].loss - two.history[0].loss)).toBeLessThan(1e-3);
    await expectFoolError(trainLenet(small(6, 2, { trainLimit: 640 }), { checkpointPath: ckpt, resume: true }), 'MISMATCH', /workers = 1, not 2/);
    await expectFoolError(trainLenet(small(6, 1, { workers: 65 })), 'BAD_INPUT', /--workers must be an integer from 1 to the batch size \(64\)/);
  });

  it('reaches a sensible test accuracy quickly', async () => {
    const r = await trainLenet(settingsFor('sgd', 1, 1, { trainLimit: 12_800 }), { testLimit: 2000 });
    expect(r.testAccuracy).toBeGreaterThan(0.93);
  });
});

describe('fool train lenet: files', () => {
  it('writes FILE.onnx, a valid manifest and labels; the model runs in a fresh session', async () => {
    const out = join(dir, 'tiny-lenet.onnx');
    const { result, paths } = await trainLenetFile(small(1, 1), { out, testLimit: 1000 });
    expect(paths.manifest).toBe(join(dir, 'tiny-lenet.json'));
    const manifest = ManifestSchema.parse(JSON.parse(readFileSync(paths.manifest, 'utf8')));
    expect(manifest).toMatchObject({
      name: 'tiny-lenet',
      file: 'tiny-lenet.onnx',
      preset: 'mnist',
      input: { name: 'data', layout: 'NCHW', height: 28, width: 28, channels: 1, scale: 0.00390625, mean: [0], std: [1] },
      output: { name: 'prob', kind: 'probabilities' },
      labels: 'tiny-lenet.labels.txt',
      labelOffset: 0,
      classes: 10,
    });
    expect(readFileSync(join(dir, manifest.labels), 'utf8').trim().split('\n')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(existsSync(paths.checkpoint)).toBe(true);
    expect(readdirSync(dir).some((f) => f.includes('.tmp-'))).toBe(false);

    // A fresh session on the written file gives the accuracy the trainer reported.
    const session = await ort.InferenceSession.create(out);
    const test = loadMnist('test');
    const n = 1000;
    const x = Float32Array.from(test.images.subarray(0, n * 784), (p) => p * manifest.input.scale);
    const prob = (await session.run({ data: new ort.Tensor('float32', x, [n, 1, 28, 28]) })).prob.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = prob.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
    }
    expect(correct / n).toBeCloseTo(result.testAccuracy, 6);
    await session.release();
  });

  it('adds an 11th class "fooling" from a folder of 28x28 images', async () => {
    const folder = join(dir, 'fooling-ok');
    mkdirSync(folder);
    await png(join(folder, 'a.png'), 28, 28);
    await png(join(folder, 'b.png'), 28, 28, 3); // colour is turned grey
    const out = join(dir, 'lenet11.onnx');
    const { result, paths } = await trainLenetFile(small(1, 1, { trainLimit: 640 }), { out, extraClassDir: folder, testLimit: 200 });
    expect(result.settings.classes).toBe(11);
    expect(result.settings.extraImages).toBe(2);
    const manifest = ManifestSchema.parse(JSON.parse(readFileSync(paths.manifest, 'utf8')));
    expect(manifest.classes).toBe(11);
    expect(readFileSync(paths.labels, 'utf8').trim().split('\n').at(-1)).toBe('fooling');
    const session = await ort.InferenceSession.create(out);
    const r = await session.run({ data: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
    expect(r.prob.dims).toEqual([1, 11]);
    await session.release();

    // Resuming on other images of the same count is refused: the checkpoint knows its images.
    const other = join(dir, 'fooling-other');
    mkdirSync(other);
    await png(join(other, 'a.png'), 28, 28, 3);
    await sharp(Buffer.alloc(784, 9), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(other, 'b.png'));
    await expectFoolError(
      trainLenetFile(small(1, 2, { trainLimit: 640 }), { out, extraClassDir: other, resume: true }),
      'MISMATCH',
      /extraHash/,
    );
  });

  it('refuses to train afresh over the checkpoint of a stopped training (left as it was); --resume continues it', async () => {
    const out = join(dir, 'halted.onnx');
    const abort = new AbortController();
    const stopped = await trainLenetFile(small(3, 2), {
      ...QUICK,
      out,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.epoch === 2 && p.batch >= 5) abort.abort();
      },
    });
    expect(stopped.result.stopped).toBe(true);
    const ckpt = readFileSync(`${out}.ckpt`);
    // The stopped command run again without --resume (up-arrow, Enter): refused, the epoch kept.
    await expectFoolError(trainLenetFile(small(3, 2), { ...QUICK, out }), 'BAD_INPUT', /halted\.onnx\.ckpt holds an unfinished training \(1 of 2 epochs, seed 3\).*--resume/);
    expect(readFileSync(`${out}.ckpt`).equals(ckpt)).toBe(true);
    const resumed = await trainLenetFile(small(3, 2), { ...QUICK, out, resume: true });
    expect(resumed.result.epochsDone).toBe(2);
    // Finished: its checkpoint may be trained over (another seed, the same file name).
    const again = await trainLenetFile(small(4, 1), { ...QUICK, out });
    expect(again.result.epochsDone).toBe(1);
  });

  it('refuses an empty extra-class folder or wrong-sized images before training, writing nothing', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const out1 = join(dir, 'never1.onnx');
    await expectFoolError(trainLenetFile(small(1, 1), { out: out1, extraClassDir: empty }), 'NOT_FOUND', /no PNG or JPEG/);

    const wrong = join(dir, 'wrong-size');
    mkdirSync(wrong);
    await png(join(wrong, 'ok.png'), 28, 28);
    await png(join(wrong, 'big.png'), 32, 32);
    const out2 = join(dir, 'never2.onnx');
    await expectFoolError(trainLenetFile(small(1, 1), { out: out2, extraClassDir: wrong }), 'MISMATCH', /32x32.*28x28/);

    await expectFoolError(trainLenetFile(small(1, 1), { out: join(dir, 'x.onnx'), extraClassDir: join(dir, 'missing') }), 'NOT_FOUND', /not a folder/);
    await expectFoolError(trainLenetFile(small(1, 1), { out: join(dir, 'x.onnx'), resume: true }), 'NOT_FOUND', /no checkpoint/);
    await expectFoolError(trainLenetFile(small(1, 1), { out: join(dir, 'bad name!.onnx') }), 'BAD_INPUT', /letters, digits/);
    for (const f of readdirSync(dir)) expect(f).not.toMatch(/^(never|x\.|bad)/);
  });
});
