import { cpus, totalmem } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chooseProvider, onnxruntimeVersion } from '../core/models/provider';
import { packageRoot } from '../core/paths';
import { classificationBench } from './classify-bench';
import { lrnBench } from './lrn-bench';
import { gradientBench } from './grad-bench';
import { trainingBench } from './train-bench';
import { evolutionBench } from './evolution-bench';
import { galleryBench } from './gallery-bench';
import { phylogenyBench } from './phylogeny-bench';
import { ablationBench } from './ablation-bench';
import { testsBench } from './tests-bench';
import { targetRows } from './targets';
import { TORCH_ANCHOR, torchBench, type TorchSide } from './torch';
import { printTable } from './timing';

/**
 * `npm run bench [-- --quick] [-- --only NAME,...] [-- --vs-torch]`: throughput tables with ratios,
 * printed as Markdown and saved to .bench/latest.md, ending with the speed targets against their
 * goals. --vs-torch measures PyTorch's side of the LeNet figures in the same run (torch.ts).
 * Speed is measured here, never in tests.
 */
const SECTIONS: Record<string, (quick: boolean) => Promise<string[]>> = {
  classify: classificationBench,
  lrn: lrnBench,
  gradients: gradientBench,
  training: trainingBench,
  evolution: evolutionBench,
  gallery: (quick) => galleryBench(quick),
  phylogeny: phylogenyBench,
  ablation: ablationBench,
  // Last: `npm test` rebuilds out/, which the sections above run from.
  tests: testsBench,
};

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? args[onlyIdx + 1].split(',') : Object.keys(SECTIONS);
  const vsTorch = args.includes('--vs-torch');
  const known = new Set(['--quick', '--only', '--vs-torch', ...(onlyIdx >= 0 ? [args[onlyIdx + 1]] : [])]);
  const unknown = [...args.filter((a) => !known.has(a)), ...only.filter((name) => !SECTIONS[name])];
  if (unknown.length > 0) {
    // Before anything runs: a typo should not cost the minutes of the sections before it.
    console.error(`bench: unknown argument or section ${unknown[0]}. Usage: npm run bench [-- --quick] [-- --only ${Object.keys(SECTIONS).join(',')}] [-- --vs-torch]`);
    process.exit(2);
  }
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, onnxruntime-node ${onnxruntimeVersion()}, provider ${chooseProvider().provider}`;
  const header = `## ${new Date().toISOString().slice(0, 10)}: ${machine}`;
  console.log(header);
  const parts = [header];
  // PyTorch's side runs before the lab's sections and again after them, and the ratios use the
  // mean of the two: this VM's clock falls under sustained load (60 s of load on both cores slows
  // the next MNIST run by ~15%), so a PyTorch measured only on the rested machine at the start
  // would flatter PyTorch against sections that run minutes later.
  let torch: { figures: typeof TORCH_ANCHOR.figures; source: string } = TORCH_ANCHOR;
  let before: TorchSide | undefined;
  // One PyTorch for both sides: the MNIST bytes it reads are written once.
  const pytorch = vsTorch ? torchBench(quick) : undefined;
  if (pytorch) {
    const side = 'skipped' in pytorch ? pytorch : pytorch.side('before the lab');
    if ('skipped' in side) {
      console.log(`\nPyTorch side skipped: ${side.skipped}; the targets below are read against the ${TORCH_ANCHOR.source}`);
      parts.push(`\nPyTorch side skipped: ${side.skipped}.`);
    } else {
      before = side;
      torch = side;
      parts.push(side.table);
    }
  }
  let afterDone = false;
  const torchAfter = () => {
    if (!before || afterDone || !pytorch || 'skipped' in pytorch) return;
    afterDone = true;
    const side = pytorch.side('after the lab');
    if ('skipped' in side) return void parts.push(`\nPyTorch's second side failed: ${side.skipped}; the ratios use the first.`);
    parts.push(side.table);
    const f = (k: keyof typeof side.figures) => (before.figures[k] + side.figures[k]) / 2;
    torch = {
      figures: { trainEpochSeconds: f('trainEpochSeconds'), inference128: f('inference128'), gradient128: f('gradient128') },
      source: `${before.source}; mean of its runs before and after the lab's sections`,
    };
  };
  try {
    for (const name of only) {
      const section = SECTIONS[name];
      if (!section) throw new Error(`unknown section ${name}; sections: ${Object.keys(SECTIONS).join(', ')}`);
      // The test loop is not compared with PyTorch and takes minutes: PyTorch's second side goes first.
      if (name === 'tests') torchAfter();
      parts.push(...(await section(quick)));
    }
    torchAfter();
  } finally {
    if (pytorch && !('skipped' in pytorch)) pytorch.close();
  }
  const targets = targetRows(torch);
  if (targets.length > 1) parts.push(printTable('Speed targets (issue 15): measured against goal', targets));
  const dir = join(packageRoot(), '.bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), parts.join('\n') + '\n');
  console.log(`\n(saved to ${join(dir, 'latest.md')})`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
