import { EvolutionSettingsSchema, type CppnGenome, type CppnSettings } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { formatConfidence } from '../../../shared/confidence';
import type { GenomeAblatedImage, GenomeAblationParams, GenomeAblationResult, GenomeAblationSummary } from '../../../shared/genome';
import { controlEdits, findRepetition, renderEdited, renderWithPlanes } from '../analysis/genome';
import { stack, type Image } from '../models/image';
import { cppnFromJSON } from '../engine/cppn';
import { Renderer, renderOptions } from '../engine/render';
import { Rng } from '../engine/rng';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import { ExperimentStore } from '../store/experiments';
import type { RunRow } from '../store/runs';
import { median } from './images';
import type { ReportPlot, ReportSection } from './kind';
import { histogram } from './plots';
import { htmlTable } from './report-html';
import { pct } from './tables';

/**
 * The repetition ablation in the genome (`fool ablate RUN --genome`). For every CPPN champion: find
 * the nodes whose activation repeats and where the repetition starts (analysis/genome), remove it
 * (knock those nodes out, or lower their frequency so one period covers the image), re-render with
 * the engine's renderer and re-classify under the run's model. The control does the same to as many
 * nodes drawn at random among the non-repeating ones, several seeded draws. The paper's claim
 * ("repetition helps") predicts a larger drop for the repetition than for the control.
 */

/** A CPPN run's settings and renderer; anything else is refused with what to do instead. */
export function cppnRun(lab: Lab, runId: number): { run: RunRow; settings: CppnSettings; renderer: Renderer } {
  const run = lab.runs.get(runId);
  if (run.encoding !== 'cppn') {
    throw new FoolError(
      'BAD_INPUT',
      `run ${runId} is a ${run.encoding === 'gradient' ? 'gradient-ascent' : `${run.encoding}-encoding`} run: its images have no CPPN genome to ablate`,
      `Ablate its pixels instead (fool ablate ${runId}, or the app's ablation tool), or pick a CPPN run (fool runs list)`,
    );
  }
  const settings = EvolutionSettingsSchema.parse(run.settings);
  if (settings.encoding !== 'cppn') throw new FoolError('INTERNAL', `run ${runId} says cppn but its settings do not`);
  return { run, settings, renderer: new Renderer(renderOptions(settings)) };
}

/** One CPPN individual's genome (after cppnRun's checks). */
export function cppnOf(lab: Lab, runId: number, individualId: number): CppnGenome {
  return cppnFromJSON(new TextDecoder().decode(lab.runs.individual(runId, individualId).genome));
}

const std = (xs: number[]) => {
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / xs.length);
};

export type { GenomeAblatedImage, GenomeAblationParams, GenomeAblationResult, GenomeAblationSummary };

export function summarizeGenome(images: GenomeAblatedImage[]): GenomeAblationSummary {
  const rep = images.filter((i) => i.after !== null);
  const ctl = rep.filter((i) => i.controlMean !== null);
  const drops = rep.map((i) => i.before - i.after!);
  const cdrops = ctl.map((i) => i.before - i.controlMean!);
  const share = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : Number.NaN);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : Number.NaN);
  const origins = rep.flatMap((i) => i.origins);
  const kinds = { stripes: 0, grid: 0, rings: 0 };
  for (const o of origins) kinds[o.kind as keyof typeof kinds]++;
  return {
    champions: images.length,
    withRepetition: rep.length,
    droppedShare: share(drops.map((d) => d > 1e-4)),
    medianDrop: median(drops),
    meanDrop: mean(drops),
    controlDroppedShare: share(cdrops.map((d) => d > 1e-4)),
    controlMedianDrop: median(cdrops),
    controlMeanDrop: mean(cdrops),
    worseThanControlShare: share(ctl.map((i) => i.before - i.after! > i.before - i.controlMean!)),
    withControl: ctl.length,
    medianPeriod: median(origins.map((o) => o.period)),
    kinds,
  };
}

export async function runGenomeAblation(
  lab: Lab,
  params: GenomeAblationParams,
  opts: { classifier?: ClassifierOptions; signal?: AbortSignal; onProgress?: (done: number, total: number) => void; onCreated?: (experimentId: number) => void } = {},
): Promise<{ id: number; result: GenomeAblationResult }> {
  if (!Number.isInteger(params.draws) || params.draws < 1 || params.draws > 100) throw new FoolError('BAD_INPUT', `draws must be 1 to 100, got ${params.draws}`);
  const { run, renderer } = cppnRun(lab, params.runId);
  if (run.lastGeneration < 0) throw new FoolError('BAD_INPUT', `run ${run.id} has no champions yet`, 'Run at least one generation');
  lab.models.forRun(run);
  const store = new ExperimentStore(lab.db);
  const id = store.create('genome-ablation', params);
  opts.onCreated?.(id);
  const t0 = performance.now();
  const champs = lab.runs.champions(run.id);
  const individuals = [...new Set(champs.map((c) => c.individualId))];
  const { width, height, channels } = renderer.opts;
  const asImage = (data: Uint8Array): Image => ({ width, height, channels, data });
  const byInd = new Map<number, { before: number[]; after: number[] | null; control: number[][]; controlNodes: number; report: ReturnType<typeof findRepetition> }>();
  const classifier = await lab.openClassifier(run.model, opts.classifier);
  let done = true;
  try {
    // One champion's images per batch (it, its removal and the control draws), so a cancel stops
    // between champions and keeps those done.
    opts.onProgress?.(0, individuals.length);
    for (const [n, ind] of individuals.entries()) {
      if (opts.signal?.aborted) {
        done = false;
        break;
      }
      const batch: Image[] = [];
      const g = cppnOf(lab, run.id, ind);
      const planes = renderWithPlanes(renderer, g);
      const report = findRepetition(renderer, g, {}, planes);
      batch.push(asImage(planes.image));
      const edits = report.removal[params.remove];
      let controlNodes = 0;
      if (edits.length) {
        batch.push(asImage(renderEdited(renderer, g, edits)));
        // Draw k of the control uses its own stream keyed by (seed, individual, k): reproducible
        // whatever else the run holds.
        for (let k = 0; k < params.draws; k++) {
          const ctl = controlEdits(g, report, params.remove, planes.used, Rng.of(params.seed, ind, k));
          if (ctl) {
            batch.push(asImage(renderEdited(renderer, g, ctl)));
            controlNodes = ctl.length;
          }
        }
      }
      const probs = await classifier.classify(stack(batch));
      const row = (i: number) => probs.subarray(i * classifier.classes, (i + 1) * classifier.classes);
      byInd.set(ind, {
        report,
        before: Array.from(row(0)),
        after: edits.length > 0 ? Array.from(row(1)) : null,
        control: Array.from({ length: Math.max(0, batch.length - 2) }, (_, k) => Array.from(row(2 + k))),
        controlNodes,
      });
      opts.onProgress?.(n + 1, individuals.length);
    }
  } finally {
    await classifier.close();
  }
  const images: GenomeAblatedImage[] = [];
  for (const c of champs) {
    const r = byInd.get(c.individualId);
    if (!r) continue;
    const labels = new Map(r.report.elements.map((e) => [e.node, e]));
    const control = r.control.map((p) => p[c.class]);
    const edits = r.report.removal[params.remove];
    images.push({
      class: c.class,
      label: c.label,
      individualId: c.individualId,
      periodicNodes: r.report.elements.length,
      origins: r.report.elements
        .filter((e) => e.origin)
        .map((e) => ({ node: e.node, label: labels.get(e.node)!.label, period: e.period, kind: e.kind, inputs: e.inputs.map((i) => `${i.label}*${i.weight.toFixed(2)}`).join(' + ') })),
      before: r.before[c.class],
      after: r.after ? r.after[c.class] : null,
      control,
      controlNodes: r.controlNodes,
      controlMean: control.length ? control.reduce((a, b) => a + b, 0) / control.length : null,
      controlStd: control.length ? std(control) : null,
      edits,
    });
  }
  const result: GenomeAblationResult = { runId: run.id, model: run.model, remove: params.remove, draws: params.draws, images, summary: summarizeGenome(images), done, seconds: (performance.now() - t0) / 1000 };
  store.setResult(id, result);
  return { id, result };
}

// ---- tables (the CLI prints them; the report puts them in HTML) ---------------------------------

export function genomeAblationTable(r: GenomeAblationResult): string[][] {
  const s = r.summary;
  const how = r.remove === 'knockout' ? 'repetition knocked out' : 'repetition lowered to one period';
  return [
    ['', how, `random control (${r.draws} draws, mean)`],
    ['champions with repetition', `${s.withRepetition}/${s.champions}`, `${s.withControl}/${s.champions}`],
    ['confidence dropped', pct(s.droppedShare, 1), pct(s.controlDroppedShare, 1)],
    ['median drop', pct(s.medianDrop), pct(s.controlMedianDrop)],
    ['mean drop', pct(s.meanDrop), pct(s.controlMeanDrop)],
    ['drop larger than control', pct(s.worseThanControlShare, 1), ''],
    ['median period (px)', Number.isFinite(s.medianPeriod) ? s.medianPeriod.toFixed(1) : '-', ''],
    ['origins: stripes / grid / rings', `${s.kinds.stripes} / ${s.kinds.grid} / ${s.kinds.rings}`, ''],
  ];
}

export function genomeAblationImagesTable(r: GenomeAblationResult): string[][] {
  return [
    ['class', 'label', 'individual', 'periodic nodes', 'origins (period px, kind: inputs)', 'before', 'removed', 'control mean', 'control sd'],
    ...r.images.map((i) => [
      String(i.class),
      i.label,
      String(i.individualId),
      String(i.periodicNodes),
      i.origins.map((o) => `${o.label} (${o.period.toFixed(1)}, ${o.kind}: ${o.inputs})`).join('; ') || '-',
      formatConfidence(i.before),
      formatConfidence(i.after),
      formatConfidence(i.controlMean),
      pct(i.controlStd),
    ]),
  ];
}

/** The report's sections and plots (the ablate kind's, for experiments stored as 'genome-ablation'). */
export function genomeAblationReport(r: GenomeAblationResult): { sections: ReportSection[]; plots: ReportPlot[] } {
  const rep = r.images.filter((i) => i.after !== null);
  return {
    sections: [
      {
        title: `Summary over run ${r.runId}'s champions (${r.model}), repetition removed in the genome (${r.remove})`,
        html: htmlTable(genomeAblationTable(r)) + (r.done ? '' : '<p><b>Stopped</b>: the champions done so far.</p>'),
      },
      { title: 'Per champion', html: htmlTable(genomeAblationImagesTable(r)) },
    ],
    plots: [
      {
        file: 'genome-ablation-drop.png',
        svg: histogram(
          [
            { name: 'repetition removed', values: rep.map((i) => i.before - i.after!) },
            { name: 'random control (mean of draws)', values: rep.filter((i) => i.controlMean !== null).map((i) => i.before - i.controlMean!) },
          ],
          'Confidence drop (before - after)',
          'drop',
          -0.1,
          1,
          11,
        ),
        caption: 'Confidence drop after removing the repeating CPPN elements, and after the same removal on random non-repeating elements',
      },
    ],
  };
}
