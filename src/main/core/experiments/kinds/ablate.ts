import { REMOVALS, type GenomeAblationResult, type Removal } from '../../../../shared/genome';
import { runAblation, type AblationParams, type AblationResult } from '../ablation';
import { genomeAblationImagesTable, genomeAblationReport, genomeAblationTable, runGenomeAblation } from '../genome-ablation';
import { defineExperiment } from '../kind';
import { histogram } from '../plots';
import { htmlTable, reportHint, textTable } from '../report-html';
import { ablationImagesTable, ablationTable } from '../tables';

/**
 * `genome: true`: the same question asked of the CPPN genome (issue 11): the nodes where the
 * repetition starts knocked out (or slowed to one period), against as many random non-repeating
 * nodes; stored as 'genome-ablation'.
 */
type Params = AblationParams & { genome: boolean; remove: Removal; draws: number };
type Result = AblationResult | GenomeAblationResult;
const isGenome = (r: Result): r is GenomeAblationResult => 'remove' in r;

/** The repetition ablation over a run's champions (paper section 3.3, figure 7), in the image or in the genome. */
export const ablate = defineExperiment<Params, Result>({
  kind: 'ablate',
  stored: 'ablation',
  alsoStored: ['genome-ablation'],
  description: "repetition ablation over a run's champions: remove all copies but one of each repeated motif (and, as a control, the same area at random) and re-classify",
  params: [
    { name: 'runId', type: 'run', label: 'Run', help: 'run id', required: true, cli: '<run>' },
    { name: 'fill', type: 'choice', label: 'Fill', help: 'what replaces removed pixels', choices: ['mean', 'grey', 'black'], default: 'mean', cli: '--fill <f>' },
    { name: 'seed', type: 'int', label: 'Control seed', help: "seed of the control's random placement (--genome: of the control's random nodes)", min: 0, default: 1, cli: '--seed <s>' },
    { name: 'genome', type: 'bool', label: 'In the genome', help: 'ablate in the CPPN genome (CPPN runs): remove the nodes where the repetition starts, against as many random non-repeating nodes', default: false },
    { name: 'remove', type: 'choice', label: 'Remove', help: 'with --genome: knock the repeating nodes out (to their mean), or lower their frequency to one period over the image', choices: REMOVALS, default: 'knockout', cli: '--remove <how>', onlyWith: 'genome' },
    { name: 'draws', type: 'int', label: 'Control draws', help: 'with --genome: control draws per champion', min: 1, max: 100, default: 5, cli: '--draws <n>', onlyWith: 'genome' },
  ],
  // Champion by champion: a cancel stops between champions and stores those done (done: false).
  run: async (p, ctx): Promise<{ id: number; result: Result }> => {
    if (p.genome) {
      return runGenomeAblation(
        ctx.lab,
        { runId: p.runId, remove: p.remove, draws: p.draws, seed: p.seed },
        {
          classifier: ctx.classifier,
          signal: ctx.signal,
          onCreated: (experimentId) => ctx.ids({ experimentId }),
          onProgress: (done, total) => ctx.progress({ done, total, message: `${done}/${total} genomes ablated` }),
        },
      );
    }
    return runAblation(ctx.lab, { runId: p.runId, fill: p.fill, seed: p.seed }, {
      classifier: ctx.classifier,
      signal: ctx.signal,
      onCreated: (experimentId) => ctx.ids({ experimentId }),
      onProgress: (done, total) => ctx.progress({ done, total, message: `${done}/${total} champions ablated` }),
    });
  },
  text: (r, { id, flags }) =>
    isGenome(r)
      ? [textTable(genomeAblationTable(r)), ...(flags.images ? ['', textTable(genomeAblationImagesTable(r))] : []), '', reportHint(id)].join('\n')
      : [textTable(ablationTable(r)), ...(flags.images ? ['', textTable(ablationImagesTable(r))] : []), '', reportHint(id)].join('\n'),
  report: (r) => {
    if (isGenome(r)) return genomeAblationReport(r);
    const rep = r.images.filter((i) => i.ablated !== null);
    return {
      sections: [
        { title: `Summary over run ${r.runId}'s champions (${r.model})`, html: htmlTable(ablationTable(r)) },
        { title: 'Per champion', html: htmlTable(ablationImagesTable(r)) + (r.done === false ? '<p><b>Stopped</b>: the champions done so far.</p>' : '') },
      ],
      plots: [
        {
          file: 'ablation-drop.png',
          svg: histogram(
            [
              { name: 'repeats removed', values: rep.map((i) => i.before - i.ablated!) },
              { name: 'random control', values: rep.map((i) => i.before - i.control!) },
            ],
            'Confidence drop (before - after)',
            'drop',
            -0.1,
            1,
            11,
          ),
          caption: 'Confidence drop after removing all copies but one, and after removing the same area at random',
        },
      ],
    };
  },
  cli: {
    classifierOptions: true,
    stopMessage: 'Stopping after the current champion (Ctrl-C again to quit at once; the champions done so far are kept)...',
    flags: [{ flags: '--images', description: 'also print every champion' }],
    progress: { bar: 'ablating |{bar}| {value}/{total}' },
  },
});
