import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../core/data/mnist';
import { cpuCount } from '../core/models/provider';
import { packageRoot } from '../core/paths';
import type { TorchFigures } from './targets';
import { fmt, printTable } from './timing';

/**
 * The PyTorch side of `npm run bench -- --vs-torch`: src/main/bench/torch/lenet.py trains, runs
 * and differentiates Caffe's LeNet on the lab's own MNIST bytes in a Python with torch, on as many
 * threads as the lab uses, in the same benchmark run, so the speed targets that are ratios to
 * PyTorch are read against this machine at this hour rather than against a figure from elsewhere.
 */

/**
 * Without --vs-torch the targets are read against these dated figures (../shared/docs/anchors.md:
 * PyTorch 1.13.1, Debian, OpenBLAS 0.3.21 OpenMP, 2 threads, medians, the project's 2-core AMD
 * EPYC VM, 2026-11). They are reference points, not results of this run, and the table says so.
 */
export const TORCH_ANCHOR: { figures: TorchFigures; source: string } = {
  figures: { trainEpochSeconds: 12.5, inference128: 12_850, gradient128: 4_665 },
  source: 'anchor: PyTorch 1.13.1 + OpenBLAS, 2 threads, this kind of machine, 2026-11',
};

/**
 * The Pythons to try, in order: FOOL_BENCH_PYTHON, python3 on the PATH, then the system's
 * /usr/bin/python3 (where Debian's python3-torch installs, often shadowed by pyenv or a venv).
 */
function pythons(): string[] {
  const env = process.env.FOOL_BENCH_PYTHON;
  return env ? [env] : ['python3', '/usr/bin/python3'];
}

/** The first Python that imports torch, with torch's version; or why none does. */
function findTorch(): { py: string; version: string } | { why: string } {
  const tried: string[] = [];
  for (const py of pythons()) {
    const probe = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (!probe.error && probe.status === 0) return { py, version: probe.stdout.trim() };
    tried.push(`${py}: ${probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`)}`);
  }
  return { why: tried.join('; ') };
}

export interface TorchSide {
  figures: TorchFigures;
  source: string;
  table: string;
}

/** PyTorch's side of one bench run: its Python, and the lab's MNIST bytes written once for all its sides. */
export interface TorchBench {
  /** Trains and times LeNet in PyTorch once more (`when` names the moment in the table's title). */
  side(when?: string): TorchSide | { skipped: string };
  /** Removes the MNIST bytes. */
  close(): void;
}

/**
 * Finds a Python with torch and writes the MNIST bytes it reads, once: the bench measures PyTorch
 * before and after the lab's sections, and both sides read the same files. Or says in one line why
 * it cannot (`skipped`).
 */
export function torchBench(quick: boolean): TorchBench | { skipped: string } {
  const found = findTorch();
  if ('why' in found) {
    return {
      skipped: `no Python with torch (${found.why}). Install it (Debian: apt-get install python3-torch; elsewhere: pip install torch) or point FOOL_BENCH_PYTHON at one`,
    };
  }
  const script = join(packageRoot(), 'src/main/bench/torch/lenet.py');
  if (!existsSync(script)) return { skipped: `the PyTorch script ${script} is missing (run the bench from a checkout)` };
  const dir = mkdtempSync(join(tmpdir(), 'fool-torch-'));
  try {
    for (const split of ['train', 'test'] as const) {
      const set = loadMnist(split);
      writeFileSync(join(dir, `${split}-images.u8`), set.images);
      writeFileSync(join(dir, `${split}-labels.u8`), set.labels);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { side: (when = '') => runSide(found, script, dir, quick, when), close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One PyTorch side on the MNIST bytes in `dir`. */
function runSide({ py, version }: { py: string; version: string }, script: string, dir: string, quick: boolean, when: string): TorchSide | { skipped: string } {
  const threads = Math.min(cpuCount(), 8);
  console.error(`  PyTorch ${version} (${py}), ${threads} threads: training and timing LeNet ...`);
  const run = spawnSync(py, [script, dir, String(threads), quick ? '1' : '3', quick ? '3' : '10', quick ? '6400' : '0'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return { skipped: `the PyTorch side failed (exit ${run.status}); its messages are above` };
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as TorchFigures & {
    torch: string;
    blas: string;
    threads: number;
    epochSeconds: number[];
    testAccuracy: number;
    inference1: number;
    trainImages: number;
  };
  const slowBlas = !/openblas|mkl|blis/i.test(r.blas);
  const source = `PyTorch ${r.torch} in this run, ${r.threads} threads, BLAS ${r.blas}${slowBlas ? ' (reference BLAS: slow, see docs/benchmarks.md)' : ''}`;
  const table = printTable(`PyTorch side${when ? `, ${when}` : ''} (${source})`, [
    ['work', 'PyTorch', 'note'],
    ['LeNet training, one 60,000-image epoch, batch 64', `${r.trainEpochSeconds.toFixed(1)} s`, `median of ${r.epochSeconds.length} (${r.epochSeconds.map((s) => s.toFixed(1)).join(', ')})${r.trainImages < 60000 ? `, timed on ${r.trainImages.toLocaleString('en')} images and scaled (--quick)` : ''}; test accuracy ${(r.testAccuracy * 100).toFixed(2)}%`],
    ['LeNet inference, batch 1, images/s', fmt(r.inference1), 'median of 5 windows'],
    ['LeNet inference, batch 128, images/s', fmt(r.inference128), 'median of 5 windows'],
    ['LeNet input gradient (log-probability), batch 128, images/s', fmt(r.gradient128), 'median of 5 windows'],
  ]);
  return { figures: { trainEpochSeconds: r.trainEpochSeconds, inference128: r.inference128, gradient128: r.gradient128 }, source, table };
}
