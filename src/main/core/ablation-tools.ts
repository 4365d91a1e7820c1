import type { Box, CopiesAblation, GenomeApplyResult, Prediction, SavedGenomeAblation } from '../../shared/api';
import type { ModelInfo } from '../../shared/manifest';
import { FoolError } from '../../shared/errors';
import type { GenomeEdit, NodeActivation, RepetitionReport } from '../../shared/genome';
import { keepOneCopy, randomControls } from './analysis/copies';
import { activationImage, findRepetition, nodeLabels, renderEdited, renderWithPlanes } from './analysis/genome';
import { detectMotifs, type Fill, type MotifGroup } from './analysis/motifs';
import { detectPeriod } from './analysis/periodicity';
import { Rng } from './engine/rng';
import { cppnOf, cppnRun } from './experiments/genome-ablation';
import { individualImage } from './individual-image';
import type { Lab } from './lab';
import { topPredictions } from './models/top-k';
import type { Classifier } from './models/classifier';
import { stack, type Image } from './models/image';
import { encodePng } from './models/png';
import { GenomeAblationStore, type GenomeAblationRow } from './store/genome-ablations';

/**
 * The app's interactive ablation tools behind the API: the paper's measure on one motif (keep one
 * copy, random control) and the genome tool (switch CPPN nodes and connections off, see every
 * node's activation, remove the repetition). Everything is classified under the run's own model,
 * at the run's image size.
 */

/** Node activation thumbnails: this many pixels on the longer side. */
const THUMB = 64;

/** The part of a `width` x `height` image that the model sees: its centre crop, or null (all of it). */
export function modelCrop(info: ModelInfo, width: number, height: number): Box | null {
  const s = info.manifest.input;
  if (s.resize !== 'crop' || (width === s.width && height === s.height) || width < s.width || height < s.height) return null;
  return { x: Math.floor((width - s.width) / 2), y: Math.floor((height - s.height) / 2), width: s.width, height: s.height };
}

/** An image as a PNG data URL (nearest-neighbour when scaled: fine stripes stay visible). */
export async function pngDataUrl(img: Image, size?: number): Promise<string> {
  return `data:image/png;base64,${(await encodePng(img, { size, nearest: true })).toString('base64')}`;
}

const std = (xs: number[]) => {
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / xs.length);
};

export class AblationTools {
  private readonly saved: GenomeAblationStore;
  /** Motifs of the last few images (individuals never change): a click on a motif needs no new detection. */
  private readonly motifCache = new Map<string, MotifGroup[]>();

  constructor(
    private readonly lab: Lab,
    /** The API's open classifiers (one worker each). */
    private readonly classifierFor: (model: string) => Promise<Classifier>,
  ) {
    this.saved = new GenomeAblationStore(lab.db);
  }

  private async classify(model: string, images: Image[]): Promise<Float32Array[]> {
    const c = await this.classifierFor(model);
    const probs = await c.classify(stack(images));
    return images.map((_, i) => probs.subarray(i * c.classes, (i + 1) * c.classes));
  }

  private top(model: string, probs: Float32Array): Prediction[] {
    return topPredictions(probs, this.lab.models.get(model).labels, 5);
  }

  private checkClass(runId: number, cls: number): void {
    const run = this.lab.runs.get(runId);
    if (cls >= run.classes) throw new FoolError('BAD_INPUT', `class ${cls} is out of range for run ${runId}`, `Classes are 0..${run.classes - 1}`);
  }

  // ---- pixel space: the paper's measure on one motif ---------------------------------------------

  /** The motifs of an individual's image (the same detection as ablation.detect), cached. */
  motifs(runId: number, individualId: number, img: Image = individualImage(this.lab, runId, individualId)): MotifGroup[] {
    const key = `${runId}/${individualId}`;
    let m = this.motifCache.get(key);
    if (!m) {
      m = detectMotifs(img);
      this.motifCache.set(key, m);
      while (this.motifCache.size > 16) this.motifCache.delete(this.motifCache.keys().next().value!);
    }
    return m;
  }

  async copies(p: { runId: number; individualId: number; class: number; motif: number; keep: number; fill: Fill; draws: number; seed: number }): Promise<CopiesAblation> {
    this.checkClass(p.runId, p.class);
    const run = this.lab.runs.get(p.runId);
    const img = individualImage(this.lab, p.runId, p.individualId);
    const motifs = this.motifs(p.runId, p.individualId, img);
    const m = motifs[p.motif];
    if (!m) {
      throw new FoolError('BAD_INPUT', `motif ${p.motif} does not exist: ${motifs.length ? `this image has motifs 0..${motifs.length - 1}` : 'no motif was found in this image'}`, 'Choose one of the detected motifs (ablation.detect)');
    }
    const k = keepOneCopy(img, m, p.fill, p.keep);
    const rng = Rng.of(p.seed);
    const ctl = randomControls(img, k, p.fill, p.draws, () => rng.float());
    const [before, kept, ...controls] = await this.classify(run.model, [img, k.image, ...ctl.images]);
    const confidences = controls.map((c) => c[p.class]);
    return {
      class: p.class,
      confidenceBefore: before[p.class],
      keepOne: { kept: k.kept, confidence: kept[p.class], top: this.top(run.model, kept), maskedPixels: k.maskedPixels, image: await pngDataUrl(k.image) },
      control: { confidences, mean: confidences.reduce((s, v) => s + v, 0) / confidences.length, std: std(confidences), image: await pngDataUrl(ctl.images[0]), seed: p.seed },
    };
  }

  // ---- the genome -----------------------------------------------------------------------------

  async nodes(runId: number, individualId: number, edits: GenomeEdit[]): Promise<NodeActivation[]> {
    const { renderer } = cppnRun(this.lab, runId);
    const g = cppnOf(this.lab, runId, individualId);
    const p = renderWithPlanes(renderer, g, edits);
    const labels = nodeLabels(g, renderer.opts);
    const { width, height } = renderer.opts;
    return Promise.all(
      g.nodes.map(async (n) => {
        const plane = p.planes.get(n.id)!;
        const per = p.used.has(n.id) ? detectPeriod(plane, width, height) : null;
        return {
          node: n.id,
          label: labels.get(n.id)!,
          kind: n.kind,
          activation: n.activation,
          used: p.used.has(n.id),
          png: await pngDataUrl({ width, height, channels: 1, data: activationImage(plane) }, THUMB),
          period: per ? { period: per.period, kind: per.kind } : null,
        };
      }),
    );
  }

  async apply(p: { runId: number; individualId: number; class: number; edits: GenomeEdit[]; nodes: boolean }): Promise<GenomeApplyResult & { png: Buffer }> {
    this.checkClass(p.runId, p.class);
    const { run, renderer } = cppnRun(this.lab, p.runId);
    const g = cppnOf(this.lab, p.runId, p.individualId);
    const { width, height, channels } = renderer.opts;
    const before: Image = { width, height, channels, data: renderer.renderCppn(g) };
    const after: Image = { width, height, channels, data: renderEdited(renderer, g, p.edits) };
    const [pb, pa] = await this.classify(run.model, [before, after]);
    const url = await pngDataUrl(after);
    return {
      confidenceBefore: pb[p.class],
      confidenceAfter: pa[p.class],
      top: this.top(run.model, pa),
      image: url,
      nodes: p.nodes ? await this.nodes(p.runId, p.individualId, p.edits) : [],
      png: Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'),
    };
  }

  repetition(runId: number, individualId: number): RepetitionReport {
    const { renderer } = cppnRun(this.lab, runId);
    return findRepetition(renderer, cppnOf(this.lab, runId, individualId));
  }

  async save(p: { runId: number; individualId: number; class: number; edits: GenomeEdit[]; note?: string }): Promise<SavedGenomeAblation> {
    const r = await this.apply({ ...p, nodes: false });
    const row = this.saved.add({ runId: p.runId, individualId: p.individualId, class: p.class, edits: p.edits, confidenceBefore: r.confidenceBefore, confidenceAfter: r.confidenceAfter, top: r.top, png: r.png, note: p.note });
    return this.savedAblation(row);
  }

  async list(runId: number, individualId: number): Promise<SavedGenomeAblation[]> {
    cppnRun(this.lab, runId);
    this.lab.runs.individual(runId, individualId);
    return Promise.all(this.saved.list(runId, individualId).map((r) => this.savedAblation(r)));
  }

  private async savedAblation(r: GenomeAblationRow): Promise<SavedGenomeAblation> {
    // The thumbnail is rendered again from the genome and the edits (cheaper than decoding the PNG).
    const { renderer } = cppnRun(this.lab, r.runId);
    const { width, height, channels } = renderer.opts;
    const img: Image = { width, height, channels, data: renderEdited(renderer, cppnOf(this.lab, r.runId, r.individualId), r.edits) };
    return {
      ablationId: r.ablationId,
      class: r.class,
      edits: r.edits,
      confidenceBefore: r.confidenceBefore,
      confidenceAfter: r.confidenceAfter,
      top: r.top,
      note: r.note,
      createdAt: r.createdAt,
      thumb: await pngDataUrl(img, THUMB),
    };
  }
}
