import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { fool, tempDir, type CliResult } from './helpers';
import { fingerprint } from './fault-helpers';

/**
 * The bad-input table: every command with malformed arguments (out-of-range numbers, wrong types,
 * missing files, folders where files go, files that are not what they claim). Each must exit 2 with
 * one message that names the problem (the pattern) and a fix, and leave the lab's bytes as they were.
 * Files a root user cannot be denied (unreadable files) are represented by folders and FIFOs' kin:
 * the tests run as root here, where chmod 000 does not stop a read.
 */

const LENET = resolve(__dirname, '../resources/models/lenet-mnist.onnx');
const dir = tempDir();
const db = join(dir, 'lab.db');
const f = (name: string) => join(dir, name);

/** [arguments, what the message must say]. `--db` is added to each. */
const TABLE: [string[], RegExp][] = [
  // evolve
  [['evolve', '--model', 'lenet-mnist', '--generations', '0'], /--generations must be a whole number from 1 to 1000000, got "0"/],
  [['evolve', '--model', 'lenet-mnist', '--generations', '1e9'], /--generations must be a whole number from 1 to 1000000/],
  [['evolve', '--model', 'lenet-mnist', '--generations', 'ten'], /--generations must be a whole number/],
  [['evolve', '--model', 'lenet-mnist', '--batch', '-5'], /--batch must be a whole number from 1 to 100000/],
  [['evolve', '--model', 'lenet-mnist', '--batch', '2.5'], /--batch must be a whole number/],
  [['evolve', '--model', 'lenet-mnist', '--seed', '-1'], /--seed must be a whole number >= 0, got "-1"/],
  [['evolve', '--model', 'lenet-mnist', '--encoding', 'pixels'], /argument 'pixels' is invalid. Allowed choices are direct, cppn/],
  [['evolve', '--model', 'nosuch'], /no model named "nosuch".*Known models: lenet-mnist/],
  [['evolve', '--model', 'lenet-mnist', '--workers', '1000'], /--workers must be a whole number from 1 to 64, got "1000"/],
  [['evolve', '--model', 'lenet-mnist', '--threads', '0'], /--threads must be a whole number from 1/],
  [['evolve', '--model', 'lenet-mnist', '--max-batch', '0'], /--max-batch must be a whole number from 1/],
  [['evolve', '--model', 'lenet-mnist', '--provider', 'tpu'], /Allowed choices are auto, cpu, cuda/],
  [['evolve', '--generations', '5'], /required option '--model <name>' not specified/],
  // resume
  [['resume', 'one'], /run id must be a whole number/],
  [['resume', '99'], /there is no run 99 in this lab.*fool runs list/],
  [['resume', '1'], /run 1 already finished \(generation 2 of 2\).*--generations N with N above 2/],
  [['resume', '1', '--generations', '1'], /run 1 is already at generation 2; --generations 1 would not extend it.*above 2/],
  [['resume', '1', '--generations', '2000000'], /--generations must be a whole number from 1 to 1000000/],
  // runs, lineage
  [['runs', 'show', '0'], /run id must be a whole number >= 1, got "0"/],
  [['runs', 'show', '99'], /there is no run 99/],
  [['lineage', '1', '--class', '99'], /class 99 is out of range for run 1.*Classes are 0..9/],
  [['lineage', '1', '--class', '-1'], /--class must be a whole number >= 0, got "-1"/],
  [['runs', 'bogus'], /unknown command 'bogus'/],
  // moving runs between labs
  [['runs', 'import', 'FILE:missing.db'], /there is no lab file .*missing\.db/],
  [['runs', 'import', 'FILE:notes.txt'], /notes\.txt is not a Fooling Lab database.*Import from a lab file made by Fooling Lab/],
  [['runs', 'import', 'FILE:foreign.db'], /foreign\.db is another program's SQLite database.*Import from a lab file made by Fooling Lab/],
  [['runs', 'import', 'FILE:mine'], /mine is a folder, not a lab database.*Import from a lab file made by Fooling Lab/],
  [['runs', 'import', 'FILE:lab.db', '--runs', 'x'], /--runs "x" is not a list of run ids/],
  [['runs', 'export-lab', '99', '--out', 'FILE:one.db'], /there is no run 99/],
  [['runs', 'export-lab', '1', '--out', 'FILE:notes.txt'], /notes\.txt already exists; it was left untouched/],
  // export
  [['export', '1', '--out', '/proc/x'], /cannot write to \/proc\/x.*Choose a folder you can write to/],
  [['export', '1', '--out', 'FILE:notes.txt'], /is a file, not a folder.*new or empty folder/],
  [['export', '1', '--out', 'FILE:mine'], /holds 1 file\(s\) that Fooling Lab did not write \(index\.html\).*left untouched.*new or empty folder/],
  [['export', '1', '--classes', '99', '--out', 'FILE:new-export'], /class 99 is out of range for run 1/],
  [['export', '1', '--classes', 'a,b', '--out', 'FILE:new-export'], /class|--classes/],
  [['export', '99', '--out', 'FILE:new-export'], /there is no run 99/],
  // classify
  [['classify', '--model', 'lenet-mnist', 'FILE:missing.png'], /missing\.png.*(does not exist|cannot be read)/],
  [['classify', '--model', 'lenet-mnist', 'FILE:mine'], /mine is a folder, not an image.*Pass PNG or JPEG files/],
  [['classify', '--model', 'lenet-mnist', 'FILE:notes.txt'], /notes\.txt.*(not a|cannot be decoded|image)/i],
  [['classify', '--model', 'lenet-mnist', '--top', '0', 'FILE:notes.txt'], /--top must be a whole number >= 1, got "0"/],
  [['classify', '--model', 'nosuch', 'FILE:notes.txt'], /no model named "nosuch"/],
  // models
  [['models', 'add', 'FILE:missing.onnx', '--name', 'x', '--preset', 'mnist'], /missing\.onnx.*(does not exist|cannot be read)/],
  [['models', 'add', 'FILE:notes.txt', '--name', 'x', '--preset', 'mnist'], /notes\.txt is not a readable ONNX model.*an \.onnx export/],
  [['models', 'add', 'FILE:mine', '--name', 'x', '--preset', 'mnist'], /mine.*(folder|directory)/i],
  [['models', 'add', LENET, '--name', 'bad name!', '--preset', 'mnist'], /model name "bad name!" is not allowed.*Choose another --name/],
  [['models', 'add', LENET, '--name', 'x', '--preset', 'nope'], /(unknown preset|Allowed choices)/],
  [['models', 'add', LENET, '--name', 'LeNet-MNIST', '--preset', 'mnist'], /"LeNet-MNIST" differs only in case from the model "lenet-mnist".*Choose another --name/],
  [['models', 'add', LENET, '--name', 'y', '--preset', 'caffe-imagenet'], /(needs a labels file|does not match|input)/],
  [['models', 'add', LENET, '--name', 'y', '--preset', 'mnist', '--labels', 'FILE:missing.txt'], /missing\.txt does not exist/],
  [['models', 'add', LENET, '--name', 'y', '--preset', 'mnist', '--label-offset', '-1'], /--label-offset must be a whole number >= 0, got "-1"/],
  [['models', 'show', 'nosuch'], /no model named "nosuch"/],
  [['models', 'remove', 'lenet-mnist'], /ships with Fooling Lab and cannot be removed/],
  [['models', 'eval', 'nosuch'], /no model named "nosuch"/],
  // ascent
  [['ascent', '--model', 'lenet-mnist', '--step-size', '-1'], /--step-size must be a number above 0 and at most 255, got "-1"/],
  [['ascent', '--model', 'lenet-mnist', '--blur', '-1'], /--blur must be a number from 0 to 100, got "-1"/],
  [['ascent', '--model', 'lenet-mnist', '--steps', '0'], /--steps must be a whole number from 1/],
  [['ascent', '--model', 'lenet-mnist', '--target', '1.5'], /--target must be a number above 0/],
  [['ascent', '--model', 'lenet-mnist', '--decay', 'x'], /--decay must be a number/],
  [['ascent', '--model', 'lenet-mnist', '--classes', '99'], /class 99 is out of range/],
  [['ascent', '--model', 'lenet-mnist', '--classes', 'some'], /cannot read the class list "some"/],
  // train
  [['train', 'lenet', '--epochs', '0', '--out', 'FILE:t.onnx'], /--epochs must be a whole number >= 1, got "0"/],
  [['train', 'lenet', '--out', 'FILE:nofolder/t.onnx'], /the folder .*nofolder does not exist/],
  [['train', 'lenet', '--out', 'FILE:t.onnx', '--extra-class', 'FILE:missing-dir'], /missing-dir/],
  [['train', 'lenet', '--out', 'FILE:t.onnx', '--train-limit', '70000'], /--train-limit must be a whole number from 0 to 60000/],
  [['train', 'lenet', '--out', 'FILE:t.onnx', '--workers', '0'], /--workers must be a whole number from 1 to 64/],
  [['train', 'lenet', '--out', 'FILE:t.onnx', '--workers', '64', '--batch', '32'], /--workers must be an integer from 1 to the batch size \(32\)/],
  // experiments
  [['transfer', '--runs', 'x', '--models', 'lenet-mnist'], /--runs/],
  [['transfer', '--runs', '99', '--models', 'lenet-mnist'], /there is no run 99/],
  [['transfer', '--runs', '1', '--models', 'nosuch'], /no model named "nosuch"/],
  [['reproduce', '--seeds', 'a'], /--seeds/],
  [['reproduce', '--generations', '0'], /--generations must be a whole number from 1/],
  [['reproduce', '--encodings', 'pixel'], /pixel/],
  [['retrain', '--iterations', '0'], /--iterations must be a whole number >= 1, got "0"/],
  [['ablate', '99'], /there is no run 99/],
  [['ablate', 'x'], /run id must be a whole number/],
  [['report', '1', '--out', 'FILE:report'], /there is no experiment 1: 1 is a run id in this lab.*fool experiments list.*fool export 1/],
  [['experiments', 'report', '99', '--out', 'FILE:report'], /no experiment 99/],
  [['dataset', 'export', '99', '--out', 'FILE:ds'], /there is no run 99/],
  // sweep
  [['sweep', '--models', 'lenet-mnist', '--encodings', 'pixels', '--seeds', '1', '--generations', '2', '--dir', 'FILE:sweep-x'], /--encodings "pixels" names no encoding "pixels".*direct, cppn/],
  [['sweep', '--models', 'lenet-mnist', '--encodings', 'cppn', '--seeds', '5-1', '--generations', '2', '--dir', 'FILE:sweep-x'], /--seeds "5-1": the range 5-1 runs backwards.*--seeds 1-5/],
  // serve
  [['serve', '--port', '70000'], /--port must be a whole number from 0 to 65535, got "70000"/],
  [['serve', '--port', '-1'], /--port must be a whole number from 0 to 65535/],
  [['serve', '--host', '0.0.0.0'], /without a token.*--token/],
  [['serve', '--token', 'short'], /--token must be at least 8 characters/],
  // the lab itself
  [['runs', 'list', '--db', 'FILE:mine'], /is a folder, not a lab database/],
  [['runs', 'list', '--db', 'FILE:notes.txt'], /is not a Fooling Lab database \(it is not SQLite\); it was left untouched/],
  [['runs', 'list', '--db', 'FILE:lba.db'], /there is no lab at .*lba\.db \(from --db\).*typo/],
  [['fly'], /unknown command 'fly'/],
];

const HELP_HINT = '(add --help for usage)';

function materialise(args: string[]): string[] {
  return args.map((a) => (a.startsWith('FILE:') ? f(a.slice(5)) : a));
}

/** A few commands at a time: each is a fresh process, and the table is long. */
async function runAll(rows: [string[], RegExp][], parallel = 3): Promise<CliResult[]> {
  const out: CliResult[] = new Array(rows.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < rows.length) {
        const i = next++;
        const args = materialise(rows[i][0]);
        out[i] = await fool(args.includes('--db') ? args : [...args, '--db', db]);
      }
    }),
  );
  return out;
}

describe('the bad-input table', () => {
  beforeAll(async () => {
    expect((await fool(['evolve', '--model', 'lenet-mnist', '--encoding', 'cppn', '--generations', '2', '--batch', '20', '--workers', '1', '--db', db])).code).toBe(0);
    writeFileSync(f('notes.txt'), 'not an image, not a model, not a database\n');
    const foreign = new Database(f('foreign.db'));
    foreign.exec('CREATE TABLE notes (body TEXT)');
    foreign.close();
    mkdirSync(f('mine'));
    writeFileSync(f('mine/index.html'), '<p>my own page</p>');
  });

  it(`every command refuses malformed input: exit 2, one message with the problem and the fix, the lab unchanged (${TABLE.length} inputs)`, async () => {
    const before = fingerprint(dir);
    const results = await runAll(TABLE);
    const failures: string[] = [];
    TABLE.forEach(([args, want], i) => {
      const r = results[i];
      const lines = r.stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && l.trim() !== HELP_HINT);
      const ok = r.code === 2 && lines.length === 1 && want.test(lines[0]) && !/\n\s+at /.test(r.stderr);
      if (!ok) failures.push(`fool ${args.join(' ')}\n  exit ${r.code}, stderr: ${r.stderr.trim().slice(0, 400)}`);
    });
    expect(failures, failures.join('\n')).toEqual([]);
    expect(fingerprint(dir)).toBe(before);
    console.log(`[bad-input table] ${TABLE.length} malformed inputs: every one exit 2 with one message, lab bytes unchanged`);
  });

  it('--json gives the same refusal as one JSON document on stdout', async () => {
    for (const args of [['resume', '99'], ['evolve', '--model', 'lenet-mnist', '--generations', '0']]) {
      const r = await fool([...args, '--db', db, '--json']);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      expect(doc.error.code).toMatch(/NOT_FOUND|BAD_INPUT/);
    }
  });

  it('`fool runs show N | head`: the closed pipe ends the command quietly (no EPIPE trace)', async () => {
    // Output well over a pipe's buffer (64 KiB), so the writer is still writing when head leaves.
    const big = join(tempDir(), 'big.db');
    expect((await fool(['evolve', '--model', 'lenet-mnist', '--encoding', 'direct', '--generations', '400', '--batch', '10', '--workers', '1', '--db', big])).code).toBe(0);
    const { execFile } = await import('node:child_process');
    const stderr = await new Promise<string>((done) =>
      execFile('sh', ['-c', `"${process.execPath}" "${resolve(__dirname, '../bin/fool.js')}" runs show 1 --db "${big}" --json | head -c 10 >/dev/null`], (_err, _stdout, err) => done(err)),
    );
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
  });
});
