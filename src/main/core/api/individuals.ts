import type { AscentClass, AscentView, IndividualDetail, Lineage, RunTree } from '../../../shared/api';
import { EvolutionSettingsSchema } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { modelCrop } from '../ablation-tools';
import { buildTree } from '../analysis/phylogeny';
import { WordNet } from '../analysis/wordnet';
import { meanImage } from '../ascent/ascent';
import type { GenomeView } from '../engine/encoding';
import { encodingOf } from '../engine/encodings';
import type { Image } from '../models/image';
import { encodePng } from '../models/png';
import type { ApiContext, Handlers } from './context';
import { individualImage } from '../individual-image';
import { predict } from './predict';

/**
 * What the app shows of a run's individuals: one individual (image, top-5, genome, pixels), the
 * same image under another model, a champion's lineage and family, the run's phylogeny, and a
 * gradient-ascent run's classes. `close` lets go of the WordNet tables the phylogeny opens.
 */
export function individualHandlers(
  ctx: ApiContext,
): Handlers<'individual.get' | 'individual.classify' | 'lineage.get' | 'runs.tree' | 'runs.ascent'> & { close(): void } {
  const { lab } = ctx;
  let wordnet: WordNet | null | undefined;
  return {
    'individual.get': async ({ runId, individualId }): Promise<IndividualDetail> => {
      const run = lab.runs.get(runId);
      const ind = lab.runs.individual(runId, individualId);
      const img = individualImage(lab, runId, individualId);
      const { top } = await predict(ctx, run.model, img);
      // What the app shows of the genome is its encoding's to say (ascent runs store images, no genome).
      let view: GenomeView = { cppn: null };
      if (run.kind === 'evolution') {
        const encoding = encodingOf(run.encoding);
        view = encoding.describe(encoding.decode(ind.genome), EvolutionSettingsSchema.parse(run.settings));
      }
      const held = lab.runs.champions(runId).filter((c) => c.individualId === individualId).map((c) => c.class);
      return {
        runId,
        individualId,
        parentId: ind.parentId,
        generation: ind.generation,
        encoding: run.encoding,
        width: img.width,
        height: img.height,
        channels: img.channels,
        classesHeld: held,
        top,
        ...view,
        pixels: pixelStats(img),
        crop: modelCrop(lab.models.forRun(run), img.width, img.height),
      };
    },
    'individual.classify': async ({ runId, individualId, model }) => {
      lab.models.get(model); // a clear NOT_FOUND before any rendering
      const { top } = await predict(ctx, model, individualImage(lab, runId, individualId));
      return { model, top };
    },
    'lineage.get': ({ runId, class: cls }): Lineage => {
      const run = lab.runs.get(runId);
      const chain = lab.runs.lineage(runId, cls);
      const steps = chain.map((i) => {
        const own = i.top.find(([c]) => c === cls) ?? i.won.find(([c]) => c === cls);
        return { individualId: i.id, parentId: i.parentId, generation: i.generation, confidence: own ? own[1] : null, classesHeld: i.won.map(([c]) => c), labelsHeld: i.won.map(([c]) => run.labels[c] ?? String(c)), top: i.top.map(([c, p]) => ({ class: c, label: run.labels[c], confidence: p })) };
      });
      // The family: other champions whose ancestry meets this chain. One query for the run's
      // parent links, then each champion walks up until it reaches an ancestor of this one.
      const ancestors = new Map(chain.map((i) => [i.id, i.generation]));
      const parent = lab.runs.parentLinks(runId);
      const family: Lineage['family'] = [];
      for (const c of lab.runs.champions(runId)) {
        if (c.class === cls) continue;
        let id: number | null | undefined = c.individualId;
        while (id !== null && id !== undefined && !ancestors.has(id)) id = parent.get(id);
        if (id === null || id === undefined) continue;
        family.push({ class: c.class, label: c.label, individualId: c.individualId, commonAncestorId: id, commonAncestorGeneration: ancestors.get(id)! });
      }
      family.sort((a, b) => b.commonAncestorGeneration - a.commonAncestorGeneration || a.class - b.class);
      return { runId, class: cls, label: run.labels[cls] ?? String(cls), chain: steps, family };
    },
    'runs.tree': ({ runId }): RunTree => {
      const run = lab.runs.get(runId);
      if (wordnet === undefined) wordnet = WordNet.open();
      return buildTree(runId, run.classes, run.labels, run.lastGeneration, lab.runs.ancestry(runId), lab.runs.champions(runId), wordnet);
    },
    'runs.ascent': async ({ runId }): Promise<AscentView> => {
      const run = lab.runs.get(runId);
      if (run.kind !== 'ascent') throw new FoolError('BAD_INPUT', `run ${runId} is an evolution run, not a gradient-ascent run`, `Open it as a run: #/run/${runId}`);
      const inds = lab.runs.championIndividuals(runId);
      const classes: AscentClass[] = lab.runs.champions(runId).map((c) => {
        const extra = (inds.get(c.individualId)?.extra ?? {}) as { trace?: number[]; stepsTo?: AscentClass['stepsTo'] };
        const trace = extra.trace ?? [];
        return { class: c.class, label: c.label, individualId: c.individualId, confidence: c.confidence, steps: Math.max(0, trace.length - 1), trace, stepsTo: extra.stepsTo ?? { '0.99': null, '0.999': null, '0.9999': null } };
      });
      let startImage: string | null = null;
      try {
        const info = lab.models.forRun(run);
        const s = info.manifest.input;
        const mean = meanImage(info);
        const png = await encodePng({ width: s.width, height: s.height, channels: s.channels as 1 | 3, data: Uint8Array.from(mean, (v) => Math.round(v)) });
        startImage = `data:image/png;base64,${png.toString('base64')}`;
      } catch {
        // The model was removed since: the classes still show.
      }
      return { runId, settings: run.settings, startImage, classes };
    },
    close: () => wordnet?.close(),
  };
}

/** Per-channel mean and standard deviation, and a 16-bin histogram over every channel value. */
function pixelStats(img: Image): IndividualDetail['pixels'] {
  const C = img.channels;
  const n = img.width * img.height;
  const sum = new Array<number>(C).fill(0);
  const sq = new Array<number>(C).fill(0);
  const histogram = new Array<number>(16).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const v = img.data[i * C + c];
      sum[c] += v;
      sq[c] += v * v;
      histogram[v >> 4]++;
    }
  }
  const mean = sum.map((s) => s / n);
  return { mean, std: sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] ** 2))), histogram };
}

