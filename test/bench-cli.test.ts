import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordTarget, targetRows } from '../src/main/bench/targets';
import { TORCH_ANCHOR, torchSide } from '../src/main/bench/torch';

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
    const side = torchSide(true);
    expect('skipped' in side && side.skipped).toMatch(/no Python with torch.*\/nonexistent\/python3.*apt-get install python3-torch.*FOOL_BENCH_PYTHON/);
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
