import { z } from 'zod';
import { runAblation, type AblationParams, type AblationResult } from '../ablation';
import { defineExperiment } from '../kind';
import { histogram } from '../plots';
import { htmlTable, intOption, reportHint, textTable } from '../report-html';
import { ablationImagesTable, ablationTable } from '../tables';

/** The repetition ablation over a run's champions (paper section 3.3, figure 7). */
export const ablate = defineExperiment<AblationParams, AblationResult>({
  kind: 'ablate',
  stored: 'ablation',
  description: "repetition ablation over a run's champions: remove all copies but one of each repeated motif (and, as a control, the same area at random) and re-classify",
  params: z.object({ runId: z.number().int().positive(), fill: z.enum(['mean', 'grey', 'black']).default('mean'), seed: z.number().int().nonnegative().default(1) }).strict(),
  // One pass over the champions (seconds): a cancel lets it finish.
  run: async (p, ctx) => {
    const r = await runAblation(ctx.lab, p, {
      classifier: ctx.classifier,
      onCreated: (experimentId) => {
        ctx.ids({ experimentId });
        ctx.progress({ done: 0, total: 1, message: `ablating the champions of run ${p.runId}` });
      },
    });
    ctx.progress({ done: 1, total: 1, message: `${r.result.images.length} champions ablated` });
    return r;
  },
  text: (r, { id, flags }) => [textTable(ablationTable(r)), ...(flags.images ? ['', textTable(ablationImagesTable(r))] : []), '', reportHint(id)].join('\n'),
  report: (r) => {
    const rep = r.images.filter((i) => i.ablated !== null);
    return {
      sections: [
        { title: `Summary over run ${r.runId}'s champions (${r.model})`, html: htmlTable(ablationTable(r)) },
        { title: 'Per champion', html: htmlTable(ablationImagesTable(r)) },
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
    description: "repetition ablation over a run's champions: remove all copies but one of each repeated motif (and, as a control, the same area at random) and re-classify",
    classifierOptions: true,
    stopMessage: null,
    arguments: [{ name: '<run>', description: 'run id', parse: intOption('run id') }],
    options: [
      { flags: '--fill <f>', description: 'what replaces removed pixels', choices: ['mean', 'grey', 'black'], default: 'mean' },
      { flags: '--seed <s>', description: "seed of the control's random placement", parse: intOption('--seed', 0), default: 1 },
      { flags: '--images', description: 'also print every champion' },
    ],
    params: (o, args) => ({ runId: args[0] as number, fill: o.fill as AblationParams['fill'], seed: o.seed as number }),
  },
});
