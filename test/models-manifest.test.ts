import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, onnx } from '../src/main/core/models/onnx-graph';
import { fool, foolJson, HAS_SHARED, MODELS, SKIP_SHARED_REASON, tempDir } from './helpers';
import { fingerprint } from './fault-helpers';
import { SHIPPED_LENET, writeTorchMnist } from './torch-style-models';
import { cudaInstalled, detectGpu } from '../src/main/core/models/provider';

const CUDA_USABLE = cudaInstalled() && detectGpu().present;

interface Check {
  passed: boolean;
  accuracy: number;
  flags: string;
  message: string;
  dataset: string;
  alternatives: { flags: string; accuracy: number }[];
}
interface AddResult {
  model: { name: string };
  manifest: { input: { scale: number; mean: number[]; std: number[]; channels: number; channelOrder: string }; output: { kind: string }; labelOffset: number; classes: number };
  check: Check | null;
}

/** One clear message: exit code 2, one line on stderr, no stack trace. */
function expectCleanFailure(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('a trained torchvision-style grey model (input (p/255 - 0.1307)/0.3081, BatchNorm, ReduceMean, logits)', () => {
  let dir: string;
  let db: string;
  let model: string;
  beforeAll(() => {
    dir = tempDir();
    db = join(dir, 'lab.db');
    model = writeTorchMnist(dir);
  });

  it('registers with the mean/std flags, passes the self-check and scores >= 99% on MNIST', async () => {
    const r = await foolJson<AddResult>(['models', 'add', model, '--name', 'torch-flags', '--channels', 'grey', '--scale', '1/255', '--mean', '0.1307', '--std', '0.3081', '--db', db]);
    expect(r.manifest.input).toMatchObject({ channels: 1, mean: [0.1307], std: [0.3081] });
    expect(r.manifest.input.scale).toBeCloseTo(1 / 255, 12);
    expect(r.manifest.output.kind).toBe('logits');
    expect(r.check).toMatchObject({ dataset: 'mnist-test-1000', passed: true });
    expect(r.check!.accuracy).toBeGreaterThanOrEqual(0.98);
    const ev = await foolJson<{ accuracy: number; n: number }>(['models', 'eval', 'torch-flags', '--db', db]);
    expect(ev.n).toBe(10000);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.99);
  });

  it('added with --preset mnist it is flagged, with the flags that fit and a command that works', async () => {
    const r = await fool(['models', 'add', model, '--name', 'torch-wrong', '--preset', 'mnist', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/WARNING self-check: \d+\.\d% of 1,000 MNIST test digits right \(top-1\) with --preset mnist, but 9\d\.\d% with --preset torch-mnist: register it so with fool models remove torch-wrong && fool models add \S+ --name torch-wrong --preset torch-mnist/);
    const show = await foolJson<{ check: Check }>(['models', 'show', 'torch-wrong', '--db', db]);
    expect(show.check.passed).toBe(false);
    expect(show.check.alternatives[0].flags).toBe('--preset torch-mnist');
    expect(show.check.alternatives[0].accuracy).toBeGreaterThan(show.check.accuracy);
    const list = await fool(['models', 'list', '--db', db]);
    expect(list.stdout).toMatch(/torch-wrong\s+10\s+user\s+\d+\.\d% POOR/);

    // The advice, followed as printed (the model is registered already: it replaces it), gives a model that passes.
    const advice = /register it so with (fool models remove \S+) && (fool models add .*)$/m.exec(r.stdout)!;
    expect((await fool([...advice[1].split(' ').slice(1), '--db', db])).code).toBe(0);
    const fixed = await foolJson<AddResult>([...advice[2].split(' ').slice(1), '--db', db]);
    expect(fixed.model.name).toBe('torch-wrong');
    expect(fixed.check!.passed).toBe(true);
    expect(fixed.check!.accuracy).toBeGreaterThanOrEqual(0.98);
  });

  it('--preset torch-mnist fits it, and the shipped Caffe-style LeNet passes with --preset mnist', async () => {
    const t = await foolJson<AddResult>(['models', 'add', model, '--name', 'torch-preset', '--preset', 'torch-mnist', '--db', db]);
    expect(t.check!.passed).toBe(true);
    const l = await foolJson<AddResult>(['models', 'add', SHIPPED_LENET, '--name', 'caffe-style', '--preset', 'mnist', '--db', db]);
    expect(l.check!.passed).toBe(true);
    expect(l.check!.flags).toBe('--preset mnist');
  });

  it('reads FILE.json beside the model (as fool train writes it), and --no-check skips the check', async () => {
    const d = tempDir();
    const m = writeTorchMnist(d, { name: 'beside.onnx' });
    writeFileSync(join(d, 'beside.json'), JSON.stringify({ name: 'beside', preset: 'torch-mnist', description: 'from the file' }));
    const r = await foolJson<AddResult & { notes: string[] }>(['models', 'add', m, '--db', db]);
    expect(r.model.name).toBe('beside');
    expect(r.check!.passed).toBe(true);
    expect(r.notes.join('\n')).toMatch(/manifest: .*beside\.json/);
    const skipped = await foolJson<AddResult>(['models', 'add', m, '--name', 'unchecked', '--no-check', '--db', db]);
    expect(skipped.check).toBeNull();
  });

  it("the text says what was added as `models show` does: a one-channel input is grey, not an 'RGB' order", async () => {
    const r = await fool(['models', 'add', SHIPPED_LENET, '--name', 'grey-text', '--preset', 'mnist', '--no-check', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Added grey-text: 10 classes, input data NCHW 1x28x28 \(grey\), /);
    const shown = await fool(['models', 'show', 'grey-text', '--db', db]);
    expect(shown.stdout).toMatch(/input {3}data NCHW 1x28x28, grey,/);
  });

  it('a --preset on the command line replaces a manifest file\'s preprocessing', async () => {
    const d = tempDir();
    const m = writeTorchMnist(d, { name: 'net.onnx' });
    const manifest = join(d, 'wrong.json');
    writeFileSync(manifest, JSON.stringify({ input: { scale: 1, mean: [0], std: [1], channels: 1, channelOrder: 'RGB' } }));
    const r = await foolJson<AddResult>(['models', 'add', m, '--name', 'from-manifest', '--manifest', manifest, '--preset', 'torch-mnist', '--db', db]);
    expect(r.manifest.input.mean).toEqual([0.1307]);
    expect(r.check!.passed).toBe(true);
  });
});

describe('bad manifests and flags: one message naming the field and the fix, nothing registered', () => {
  let dir: string;
  let db: string;
  let model: string;
  beforeAll(async () => {
    dir = tempDir();
    db = join(dir, 'lab.db');
    model = writeTorchMnist(dir);
    // The lab exists before the bad inputs, so stderr holds only the refusal (a new lab is announced there).
    expect((await fool(['models', 'list', '--db', db])).code).toBe(0);
  });
  const add = (...args: string[]) => fool(['models', 'add', model, '--name', 'bad', '--db', db, ...args]);

  it('a manifest that is not JSON', async () => {
    const f = join(dir, 'broken.json');
    writeFileSync(f, '{ "preset": "torch-mnist", }');
    expectCleanFailure(await add('--manifest', f), /manifest .*broken\.json is not valid JSON: .*Fix the JSON/);
  });

  it('a manifest field of the wrong kind, and an unknown field', async () => {
    const f = join(dir, 'layout.json');
    writeFileSync(f, JSON.stringify({ preset: 'torch-mnist', input: { layout: 'NCWH' } }));
    expectCleanFailure(await add('--manifest', f), /input\.layout: .*"NCHW" or "NHWC".*--layout nchw\|nhwc/);
    writeFileSync(f, JSON.stringify({ preset: 'torch-mnist', input: { mean: 'zero' } }));
    expectCleanFailure(await add('--manifest', f), /input\.mean: .*list of 1 or 3 numbers/);
    writeFileSync(f, JSON.stringify({ preset: 'torch-mnist', inputs: {} }));
    expectCleanFailure(await add('--manifest', f), /unknown field "inputs".*the manifest fields are/);
    writeFileSync(f, JSON.stringify({ preset: 'pytorch' }));
    expectCleanFailure(await add('--manifest', f), /preset: .*preset is one of mnist, torch-mnist/);
  });

  it('a mean or std count that does not match the channels', async () => {
    expectCleanFailure(await add('--channels', 'grey', '--scale', '1/255', '--mean', '0.485,0.456,0.406', '--std', '0.3'), /--mean has 3 values .* but the input has 1 channel \(grey\)\. Give 1 value/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--std', '0.2,0.3'), /--std has 2 values/);
  });

  it('a size or channel count that does not match the graph', async () => {
    expectCleanFailure(await add('--preset', 'torch-mnist', '--size', '32x32'), /input size 32x32 does not match the graph's input "input" \[.*1, 28, 28\].*Use --size 28x28, or leave --size out/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--channels', 'rgb'), /colour \(3 channels\) but the graph's input "input" .* takes 1 channel.*--channels grey/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--size', 'big'), /--size must be HxW/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--scale', 'x'), /--scale must be a number \(or a fraction like 1\/255\)/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--output-kind', 'softmax'), /--output-kind must be probs or logits/);
    expectCleanFailure(await add('--preset', 'torch-mnist', '--output', 'prob'), /no output "prob".*--output with one of its outputs: logits/);
  });

  it('nothing that says the preprocessing', async () => {
    expectCleanFailure(await add(), /nothing gives the input normalisation \(--scale, --mean, --std\)\. Pass --preset/);
  });

  it('left the registry as it was', async () => {
    const list = await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', db]);
    expect(list.models.map((m) => m.name)).toEqual(['lenet-mnist']);
  });
});

describe('a lab copied without its .models folder', () => {
  it('lists, shows and removes the model, saying what is missing; using it fails with the same', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    const add = await fool(['models', 'add', SHIPPED_LENET, '--name', 'lost', '--preset', 'mnist', '--no-check', '--db', db]);
    expect(add.code, add.stderr).toBe(0);
    // Copy the database alone, as a user copying lab.db without lab.models would.
    const other = tempDir();
    cpSync(db, join(other, 'lab.db'));
    const odb = join(other, 'lab.db');
    const list = await foolJson<{ models: { name: string; missing?: string }[] }>(['models', 'list', '--db', odb]);
    expect(list.models.find((m) => m.name === 'lost')!.missing).toMatch(/model\.onnx and labels\.txt in .*lab\.models\/lost/);
    const show = await fool(['models', 'show', 'lost', '--db', odb]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/MISSING model\.onnx and labels\.txt in .*: the lab was copied without its models folder\?/);
    expect(show.stdout).toMatch(/input\s+data NCHW 1x28x28/);
    const png = join(other, 'x.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010800000000', 'hex'));
    expectCleanFailure(await fool(['classify', '--model', 'lost', png, '--db', odb]), /model "lost" is registered in this lab but its files are missing: .*Copy the lab's lab\.models folder back/);
    const rm = await fool(['models', 'remove', 'lost', '--db', odb]);
    expect(rm.code, rm.stderr).toBe(0);
    const after = await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', odb]);
    expect(after.models.map((m) => m.name)).not.toContain('lost');
    // The original lab is untouched.
    expect(existsSync(join(dir, 'lab.models', 'lost', 'model.onnx'))).toBe(true);
  });
});

describe('providers and onnxruntime messages', () => {
  it.skipIf(CUDA_USABLE)('--provider cuda where CUDA cannot run fails with the reason (not run where CUDA works)', async () => {
    const db = join(tempDir(), 'lab.db');
    expect((await fool(['models', 'list', '--db', db])).code).toBe(0);
    const r = await fool(['models', 'eval', 'lenet-mnist', '--provider', 'cuda', '--db', db]);
    expectCleanFailure(r, /CUDA was asked for \(--provider cuda\) but cannot be used here: .*(onnxruntime-node was installed without its CUDA libraries|no NVIDIA driver).*--provider auto/);
  });

  it.skipIf(CUDA_USABLE)('--provider cuda (or FOOL_PROVIDER=cuda) where CUDA cannot run leaves no empty run or experiment behind (not run where CUDA works)', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    expect((await fool(['evolve', '--model', 'lenet-mnist', '--generations', '1', '--batch', '10', '--workers', '1', '--db', db])).code).toBe(0);
    const before = fingerprint(dir);
    const tries: [string[], Record<string, string>][] = [
      [['evolve', '--model', 'lenet-mnist', '--generations', '1', '--provider', 'cuda'], {}],
      [['evolve', '--model', 'lenet-mnist', '--generations', '1'], { FOOL_PROVIDER: 'cuda' }],
      [['transfer', '--runs', '1', '--models', 'lenet-mnist', '--provider', 'cuda'], {}],
      [['ablate', '1', '--provider', 'cuda'], {}],
      [['reproduce', '--seeds', '1', '--generations', '1', '--checkpoint', '1', '--provider', 'cuda'], {}],
    ];
    for (const [args, env] of tries) {
      const r = await fool([...args, '--db', db], env);
      expectCleanFailure(r, /CUDA was asked for \((--provider |FOOL_PROVIDER=)cuda\) but cannot be used here/);
    }
    expect(fingerprint(dir)).toBe(before);
    const runs = await foolJson<{ runs: unknown[] }>(['runs', 'list', '--db', db]);
    expect(runs.runs).toHaveLength(1);
    const exps = await foolJson<{ experiments: unknown[] }>(['experiments', 'list', '--db', db]);
    expect(exps.experiments).toHaveLength(0);
  });

  it("keeps onnxruntime's own warnings off stderr unless --verbose", async () => {
    // A model with an unused initializer: onnxruntime warns that it removes it.
    const dir = tempDir();
    const m = decodeModel(readFileSync(SHIPPED_LENET));
    m.graph!.initializer!.push(onnx.TensorProto.create({ name: 'unused_weight', dataType: DataType.FLOAT, dims: [1], floatData: [1] }));
    const file = join(dir, 'noisy.onnx');
    writeFileSync(file, encodeModel(m));
    const db = join(dir, 'lab.db');
    expect((await fool(['models', 'list', '--db', db])).code).toBe(0);
    const quiet = await fool(['models', 'add', file, '--name', 'noisy', '--preset', 'mnist', '--db', db]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    const loud = await fool(['models', 'add', file, '--name', 'noisy2', '--preset', 'mnist', '--verbose', '--db', db]);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/unused_weight/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!HAS_SHARED)(`the ImageNet self-check on real models${HAS_SHARED ? '' : ` (skipped: ${SKIP_SHARED_REASON})`}`, () => {
  it('passes SqueezeNet with its Caffe preprocessing and flags the torch one, naming the Caffe preset', async () => {
    const db = join(tempDir(), 'lab.db');
    const good = await foolJson<AddResult>(['models', 'add', MODELS.squeezenet, '--name', 'sq', '--preset', 'caffe-imagenet', '--db', db]);
    expect(good.manifest.classes).toBe(1000); // the shipped ImageNet labels, found without --labels
    expect(good.check).toMatchObject({ dataset: 'imagenet-photos', passed: true, accuracy: 1 });
    const bad = await fool(['models', 'add', MODELS.squeezenet, '--name', 'sq-torch', '--preset', 'torch-imagenet', '--db', db]);
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stdout).toMatch(/WARNING self-check: .* with --preset torch-imagenet .*but 100\.0% with --preset caffe-imagenet: register it so with fool models remove sq-torch && fool models add \S+ --name sq-torch --preset caffe-imagenet/);
  });

  it('handles a 1001-class model (background first) with the shipped labels and offset 1', async () => {
    const db = join(tempDir(), 'lab.db');
    const r = await foolJson<AddResult>(['models', 'add', MODELS.mobilenet, '--name', 'mb', '--preset', 'tf-imagenet', '--db', db]);
    expect(r.manifest).toMatchObject({ classes: 1000, labelOffset: 1 });
    expect(r.check).toMatchObject({ passed: true, accuracy: 1 });
  });
});
