import { copyFileSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fool, foolJson, HAS_SHARED, IMAGES, MODELS, tempDir } from './helpers';

/** A bad-input case: exactly one clear message, exit code 2, no stack trace. */
function expectCleanFailure(r: { code: number; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('fool models: the registry from the command line', () => {
  it('has a per-lab registry: --db chooses the lab, FOOL_DB is the fallback', async () => {
    const dir = tempDir();
    const r = await foolJson<{ models: { source: string }[] }>(['models', 'list', '--db', join(dir, 'a.db')]);
    expect(r.models.every((m) => m.source === 'shipped')).toBe(true);
    const viaEnv = await fool(['doctor', '--json'], { FOOL_DB: join(dir, 'b.db') });
    expect(JSON.parse(viaEnv.stdout).db).toBe(join(dir, 'b.db'));
  });

  it('every command has --help', async () => {
    for (const cmd of [[], ['models'], ['models', 'add'], ['models', 'list'], ['models', 'show'], ['models', 'remove'], ['models', 'eval'], ['classify'], ['doctor']]) {
      const r = await fool([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: fool/);
    }
  });

  it('usage errors exit 2 with a JSON error under --json', async () => {
    const r = await fool(['models', 'add', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('BAD_INPUT');
  });
});

describe.skipIf(!HAS_SHARED)('registering the real models of ../shared', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = tempDir();
    db = join(dir, 'lab.db');
    const r = await fool(['models', 'add', MODELS.squeezenet, '--name', 'squeezenet', '--preset', 'caffe-imagenet', '--labels', MODELS.synsets, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('adds, lists, shows and removes a model; another --db is another lab', async () => {
    const list = await foolJson<{ models: { name: string; classes: number; source: string; file: string }[] }>(['models', 'list', '--db', db]);
    const sq = list.models.find((m) => m.name === 'squeezenet')!;
    expect(sq).toMatchObject({ classes: 1000, source: 'user' });
    expect(existsSync(sq.file)).toBe(true);
    const show = await foolJson<{ manifest: { input: { channelOrder: string; mean: number[]; height: number }; output: { name: string; kind: string } } }>(['models', 'show', 'squeezenet', '--db', db]);
    expect(show.manifest.input).toMatchObject({ channelOrder: 'BGR', mean: [104, 117, 123], height: 227 });
    expect(show.manifest.output).toEqual({ name: 'prob', kind: 'probabilities' });
    const other = await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', join(dir, 'other.db')]);
    expect(other.models.some((m) => m.name === 'squeezenet')).toBe(false);

    const add = await fool(['models', 'add', MODELS.lenet, '--name', 'tmp-lenet', '--preset', 'mnist', '--db', db]);
    expect(add.code, add.stderr).toBe(0);
    const rm = await fool(['models', 'remove', 'tmp-lenet', '--db', db]);
    expect(rm.code).toBe(0);
    const after = await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', db]);
    expect(after.models.map((m) => m.name)).not.toContain('tmp-lenet');
    expect(readdirSync(`${dir}/lab.models`)).not.toContain('tmp-lenet');
  });

  it('refuses bad input with one clear message and leaves the registry as it was', async () => {
    const before = await foolJson<{ models: unknown[] }>(['models', 'list', '--db', db]);
    const filesBefore = readdirSync(join(dir, 'lab.models')).sort();
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(MODELS.squeezenet).subarray(0, 100_000));
    const text = join(dir, 'notes.onnx');
    writeFileSync(text, 'this is not a model\n');
    const shortLabels = join(dir, 'labels.txt');
    writeFileSync(shortLabels, readFileSync(MODELS.synsets, 'utf8').split('\n').slice(0, 999).join('\n'));
    const add = (file: string, ...extra: string[]) => fool(['models', 'add', file, '--name', 'bad', '--db', db, ...extra]);

    expectCleanFailure(await add(join(dir, 'missing.onnx'), '--preset', 'mnist'), /does not exist/);
    expectCleanFailure(await add(truncated, '--preset', 'caffe-imagenet', '--labels', MODELS.synsets), /truncated|not a readable ONNX|cannot load/);
    expectCleanFailure(await add(text, '--preset', 'mnist'), /not (a readable )?(an )?ONNX/);
    expectCleanFailure(await add(MODELS.lenet, '--preset', 'caffe-imagenet', '--labels', MODELS.synsets), /1x28x28|\[N, 1, 28, 28\]|preset/);
    expectCleanFailure(await add(MODELS.squeezenet, '--preset', 'caffe-imagenet', '--labels', shortLabels), /1000 classes but the labels file has 999 lines/);
    // (Without --label-offset, one output more than the labels is taken as a leading "background".)
    expectCleanFailure(await add(MODELS.mobilenet, '--preset', 'tf-imagenet', '--labels', MODELS.synsets, '--label-offset', '0'), /--label-offset 1/);
    expectCleanFailure(await add(MODELS.squeezenet, '--preset', 'caffe-imagenet', '--labels', MODELS.synsets, '--name', 'squeezenet'), /already exists/);
    expectCleanFailure(await fool(['models', 'show', 'nope', '--db', db]), /no model named "nope"/);
    expectCleanFailure(await fool(['models', 'remove', 'nope', '--db', db]), /no model named "nope"/);

    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    expectCleanFailure(await fool(['classify', '--model', 'squeezenet', bad, '--db', db]), /cannot decode image/);
    expectCleanFailure(await fool(['classify', '--model', 'squeezenet', join(dir, 'nope.png'), '--db', db]), /does not exist/);

    const after = await foolJson<{ models: unknown[] }>(['models', 'list', '--db', db]);
    expect(after).toEqual(before);
    expect(readdirSync(join(dir, 'lab.models')).sort()).toEqual(filesBefore);
  });

  it('a copy of an image classifies the same as the original file path', async () => {
    const copy = join(dir, 'eagle-copy.jpg');
    copyFileSync(join(IMAGES, 'eagle.jpg'), copy);
    const r = await foolJson<{ results: { file: string; top: { class: number }[] }[] }>(['classify', '--model', 'squeezenet', '--db', db, join(IMAGES, 'eagle.jpg'), copy]);
    expect(r.results[0].top).toEqual(r.results[1].top);
  });
});
