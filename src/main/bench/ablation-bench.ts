import type { CppnGenome } from '../../shared/engine';
import { keepOneCopy, randomControls } from '../core/analysis/copies';
import { findRepetition, renderEdited, renderWithPlanes } from '../core/analysis/genome';
import { detectMotifs } from '../core/analysis/motifs';
import { stack, type Image } from '../core/models/image';
import { Renderer } from '../core/engine/render';
import { Rng } from '../core/engine/rng';
import { Classifier } from '../core/models/classifier';
import { hasShared, SHARED_MODELS } from './models';
import { fmt, printTable } from './timing';

/**
 * The ablation tool's answers on a 256 x 256 image (issue 11: keep one copy and the random control
 * under 500 ms): motif detection, the pixel work of keep-one-copy + 8 control draws, and the same
 * with the 10 images classified by SqueezeNet in one worker (as the app does); the genome tool's
 * click (re-render with a node off, all node activations, classify).
 */

async function ms(fn: () => Promise<unknown> | unknown, runs: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/** A CPPN in the style of an ImageNet champion: sines of x and d through a few hidden nodes. */
function genome(): CppnGenome {
  const gene = (w: number) => (w + 10) / 20;
  return {
    nodes: [
      { id: 4, kind: 'output', activation: 'sigmoid' },
      { id: 5, kind: 'output', activation: 'gaussian' },
      { id: 6, kind: 'output', activation: 'sine' },
      { id: 7, kind: 'hidden', activation: 'sine' },
      { id: 8, kind: 'hidden', activation: 'gaussian' },
      { id: 9, kind: 'hidden', activation: 'sine' },
    ],
    connections: [
      { from: 0, to: 7, gene: gene(0.3) },
      { from: 2, to: 8, gene: gene(2.5) },
      { from: 2, to: 9, gene: gene(9) },
      { from: 7, to: 4, gene: gene(2) },
      { from: 8, to: 4, gene: gene(-1) },
      { from: 9, to: 5, gene: gene(1.5) },
      { from: 8, to: 6, gene: gene(3) },
      { from: 7, to: 6, gene: gene(1) },
      { from: 3, to: 6, gene: gene(0.5) },
    ],
    nextNodeId: 10,
  };
}

export async function ablationBench(quick: boolean): Promise<string[]> {
  const runs = quick ? 3 : 9;
  const r = new Renderer({ width: 256, height: 256, channels: 3, colorSpace: 'hsv', coordinates: 'pixel', weightMin: -10, weightMax: 10 });
  const g = genome();
  const img: Image = { width: 256, height: 256, channels: 3, data: r.renderCppn(g) };
  // Vertical stripes (a "theater curtain"): the texture detector's case.
  const stripes: Image = { width: 256, height: 256, channels: 3, data: new Uint8Array(256 * 256 * 3) };
  for (let i = 0; i < 256 * 256; i++) stripes.data.fill(Math.round(128 + 100 * Math.sin((2 * Math.PI * (i % 256)) / 19)), 3 * i, 3 * i + 3);
  const rows: (string | number)[][] = [['256 x 256 image', 'step', 'ms (median)']];
  for (const [name, im] of [
    ['CPPN rendering', img],
    ['vertical stripes', stripes],
  ] as const) {
    const motifs = detectMotifs(im);
    rows.push([name, `detect motifs (${motifs.length} found)`, fmt(await ms(() => detectMotifs(im), runs))]);
    if (!motifs.length) continue;
    const m = motifs[0];
    rows.push([name, `keep one copy + 8 control draws, pixels (${m.kind}, ${m.copies.length} copies)`, fmt(await ms(() => {
      const k = keepOneCopy(im, m, 'mean');
      const rng = Rng.of(1);
      return randomControls(im, k, 'mean', 8, () => rng.float());
    }, runs))]);
    if (hasShared()) {
      const c = await Classifier.open(SHARED_MODELS.squeezenet(), { workers: 1 });
      try {
        rows.push([name, 'keep one copy + 8 draws, with SqueezeNet (10 images, 1 worker)', fmt(await ms(async () => {
          const k = keepOneCopy(im, m, 'mean');
          const rng = Rng.of(1);
          const ctl = randomControls(im, k, 'mean', 8, () => rng.float());
          return c.classify(stack([im, k.image, ...ctl.images]));
        }, runs))]);
      } finally {
        await c.close();
      }
    }
  }
  rows.push(['CPPN rendering', 'genome: node off, re-render', fmt(await ms(() => renderEdited(r, g, [{ op: 'node-off', node: 7, value: 'zero' }]), runs))]);
  rows.push(['CPPN rendering', 'genome: every node activation + repetition (FFT per node)', fmt(await ms(() => findRepetition(r, g, {}, renderWithPlanes(r, g)), runs))]);
  return [printTable('Ablation tools (issue 11): answers on a 256 x 256 image', rows)];
}
