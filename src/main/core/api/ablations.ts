import type { SavedAblation } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import { AblationTools, pngDataUrl } from '../ablation-tools';
import { ablate, type Fill } from '../analysis/motifs';
import { encodePng } from '../models/png';
import { AblationStore, type AblationRow } from '../store/ablations';
import type { ApiContext, Handlers } from './context';
import { individualImage } from '../individual-image';
import { predict } from './predict';

type Methods = 'ablation.detect' | 'ablation.apply' | 'ablation.save' | 'ablation.list' | 'ablation.copies' | 'genome.nodes' | 'genome.apply' | 'genome.repetition' | 'genome.save' | 'genome.list';

/**
 * The ablation tools of the app's detail page: in the image (motifs, a mask filled and
 * re-classified, keep-one-copy with its control) and in the genome (nodes and connections off,
 * remove repetition), each savable with the individual.
 */
export function ablationHandlers(ctx: ApiContext): Handlers<Methods> {
  const { lab } = ctx;
  const saved = new AblationStore(lab.db);
  const tools = new AblationTools(lab, (m) => ctx.openClassifier(m));

  async function ablation(p: { runId: number; individualId: number; class: number; mask: string; fill: Fill }) {
    const run = lab.runs.get(p.runId);
    if (p.class >= run.classes) throw new FoolError('BAD_INPUT', `class ${p.class} is out of range for run ${p.runId}`, `Classes are 0..${run.classes - 1}`);
    const img = individualImage(lab, p.runId, p.individualId);
    const mask = decodeMask(p.mask, img.width * img.height);
    const { image, maskedPixels } = ablate(img, mask, p.fill);
    const before = await predict(ctx, run.model, img);
    const after = await predict(ctx, run.model, image);
    return { image, mask, result: { confidenceBefore: before.probs[p.class], confidenceAfter: after.probs[p.class], top: after.top, maskedPixels } };
  }

  return {
    'ablation.detect': (p) => tools.motifs(p.runId, p.individualId),
    'ablation.apply': async (p) => {
      const a = await ablation(p);
      return { ...a.result, image: await pngDataUrl(a.image) };
    },
    'ablation.save': async (p) => {
      const { image, mask, result } = await ablation(p);
      const png = await encodePng(image);
      return savedAblation(saved.add({ runId: p.runId, individualId: p.individualId, class: p.class, fill: p.fill, mask, png, note: p.note, ...result }));
    },
    'ablation.list': (p) => {
      lab.runs.individual(p.runId, p.individualId);
      return saved.list(p.runId, p.individualId).map(savedAblation);
    },
    'ablation.copies': (p) => tools.copies(p),
    'genome.nodes': (p) => tools.nodes(p.runId, p.individualId, p.edits),
    'genome.apply': async (p) => {
      const { png: _png, ...r } = await tools.apply(p);
      return r;
    },
    'genome.repetition': (p) => tools.repetition(p.runId, p.individualId),
    'genome.save': (p) => tools.save(p),
    'genome.list': (p) => tools.list(p.runId, p.individualId),
  };
}

function savedAblation(r: AblationRow): SavedAblation {
  return {
    ablationId: r.ablationId,
    class: r.class,
    fill: r.fill,
    note: r.note,
    createdAt: r.createdAt,
    confidenceBefore: r.confidenceBefore,
    confidenceAfter: r.confidenceAfter,
    top: r.top,
    maskedPixels: r.maskedPixels,
  };
}

/** The mask of ablation requests: base64, one byte (0/1) per pixel. */
function decodeMask(b64: string, pixels: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new FoolError('BAD_INPUT', 'the mask is not base64', 'Send one byte (0 or 1) per pixel, base64-encoded');
  const buf = Buffer.from(b64, 'base64');
  if (buf.length !== pixels) throw new FoolError('BAD_INPUT', `the mask holds ${buf.length} pixels but the image has ${pixels}`, 'Send one byte per pixel of the image (width x height)');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

