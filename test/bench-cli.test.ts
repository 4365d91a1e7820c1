import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordTarget, targetRows } from '../src/main/bench/targets';
import { TORCH_ANCHOR, torchBench } from '../src/main/bench/torch';
import { tempDir } from './helpers';

// The benchmark's own interface (not its timings: speed is measured by `npm run bench`, never here).
const bench = join(__dirname, '..', 'out', 'main', 'bench.js');

describe('npm run bench', () => {
  const saved = process.env.FOOL_BENCH_PYTHON;
  afterEach(() => {
    if (saved === undefined) delete process.env.FOOL_BENCH_PYTHON;
    else process.env.FOOL_BENCH_PYTHON = saved;
  });

  it('refuses an unknown argument or section at once, naming the ones it knows', () => {
    for (const args of [['--vs-torh'], ['--only', 'trainig']]) {
      const r = spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(args.at(-1));
      expect(r.stderr).toMatch(/training/);
      expect(r.stdout).not.toMatch(/PyTorch side/);
    }
  });

  it('--vs-torch without a Python that has torch says why and how to get one', () => {
    process.env.FOOL_BENCH_PYTHON = '/nonexistent/python3';
    const side = torchBench(true);
    expect('skipped' in side && side.skipped).toMatch(/no Python with torch.*\/nonexistent\/python3.*apt-get install python3-torch.*FOOL_BENCH_PYTHON/);
  });

  it('--vs-torch writes the MNIST bytes once for both PyTorch sides, and removes them at the end', () => {
    // A Python that says it has torch and, run on the script, notes which files it was given
    // (inode and change time) and answers with figures: the bench's plumbing, not PyTorch.
    const dir = tempDir('fool-torch-test-');
    const log = join(dir, 'seen.txt');
    const py = join(dir, 'python3');
    const figures = { trainEpochSeconds: 1, inference128: 2, gradient128: 3, torch: 'fake', blas: 'openblas', threads: 1, epochSeconds: [1], testAccuracy: 0.99, inference1: 1, trainImages: 60000 };
    writeFileSync(py, `#!/bin/sh\nif [ "$1" = "-c" ]; then echo 0.0; exit 0; fi\nstat -c '%n %i %z %s' "$2/train-images.u8" >> '${log}'\necho '${JSON.stringify(figures)}'\n`);
    chmodSync(py, 0o755);
    process.env.FOOL_BENCH_PYTHON = py;
    const pytorch = torchBench(true);
    if ('skipped' in pytorch) throw new Error(pytorch.skipped);
    for (const when of ['before the lab', 'after the lab']) {
      const side = pytorch.side(when);
      expect('figures' in side && side.figures.gradient128).toBe(3);
    }
    const seen = readFileSync(log, 'utf8').trim().split('\n');
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[0]).toMatch(/ 47040000$/); // 60,000 images of 28x28 bytes
    pytorch.close();
    expect(existsSync(seen[0].split(' ')[0])).toBe(false);
  });

  it('reads a goal relative to PyTorch against the figure it was given, and says which', () => {
    recordTarget({ id: '2 lenet gradient', what: 'w', value: 9000, unit: 'images/s', goal: { op: '>=', value: 2, vs: 'gradient128' } });
    recordTarget({ id: '1 training', what: 't', value: 7.5, unit: 's', goal: { op: '<=', value: 8 } });
    const rows = targetRows(TORCH_ANCHOR);
    expect(rows.map((r) => r[0])).toEqual(['target', '1 training', '2 lenet gradient']);
    // 9,000 < 2 x 4,665: not met, and the goal names the anchor it was read against.
    expect(rows[2][4]).toBe('NO');
    expect(String(rows[2][3])).toContain('anchor');
    expect(String(rows[2][2])).toContain('1.93x PyTorch');
    expect(rows[1][4]).toBe('yes');
    const faster = targetRows({ figures: { ...TORCH_ANCHOR.figures, gradient128: 4000 }, source: 'this run' });
    expect(faster[2][4]).toBe('yes');
  });
});
