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
import { TORCH_ANCHOR, torchSide } from './torch';
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
  // PyTorch first, while the machine is as it is for the lab's sections that follow.
  let torch: { figures: typeof TORCH_ANCHOR.figures; source: string } = TORCH_ANCHOR;
  if (vsTorch) {
    const side = torchSide(quick);
    if ('skipped' in side) {
      console.log(`\nPyTorch side skipped: ${side.skipped}; the targets below are read against the ${TORCH_ANCHOR.source}`);
      parts.push(`\nPyTorch side skipped: ${side.skipped}.`);
    } else {
      torch = side;
      parts.push(side.table);
    }
  }
  for (const name of only) {
    const section = SECTIONS[name];
    if (!section) throw new Error(`unknown section ${name}; sections: ${Object.keys(SECTIONS).join(', ')}`);
    parts.push(...(await section(quick)));
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
