import type { Candidate, Genome } from '../../../shared/engine';
import { encodingOf } from '../engine/encodings';
import { FoolError } from '../../../shared/errors';
import type { RenderOptions } from '../engine/render';
import type { Classifier } from '../models/classifier';
import { builtEntry } from '../paths';
import { WorkerPool } from '../workers/pool';
import type { PixelBatch } from '../models/image';

/**
 * Caffe's oversample (the original's fitness): from each image, 10 crops of the model's input
 * size, the 4 corners and the centre and their mirror images (left-right), image i's crops at
 * 10i..10i+9. An image of the input size gives 5 identical crops and 5 mirrored ones.
 */
export function tenCrops(batch: PixelBatch, h: number, w: number): PixelBatch {
  const { n, height: H, width: W, channels: C, data } = batch;
  if (H < h || W < w) throw new FoolError('MISMATCH', `ten-crop needs images of at least ${w}x${h}, got ${W}x${H}`, 'Render larger images or drop --ten-crop');
  const at: [number, number][] = [[0, 0], [W - w, 0], [0, H - h], [W - w, H - h], [Math.floor((W - w) / 2), Math.floor((H - h) / 2)]];
  const per = h * w * C;
  const out = new Uint8Array(n * 10 * per);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 10; c++) {
      const [x0, y0] = at[c % 5];
      const mirror = c >= 5;
      const o = (i * 10 + c) * per;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sx = x0 + (mirror ? w - 1 - x : x);
          const s = ((i * H + y0 + y) * W + sx) * C;
          const d = o + (y * w + x) * C;
          for (let ch = 0; ch < C; ch++) out[d + ch] = data[s + ch];
        }
      }
    }
  }
  return { n: n * 10, height: h, width: w, channels: C, data: out };
}

/**
 * Genomes -> probabilities as a pipeline: the batch is cut into chunks; each chunk is rendered by
 * the render workers, then classified by the classifier's workers, so rendering of chunk k+1
 * overlaps classification of chunk k and neither pool waits for the whole batch.
 */
export class Evaluator {
  private constructor(
    private readonly render: WorkerPool<Uint8Array>,
    private readonly classifier: Classifier,
    private readonly opts: RenderOptions,
    readonly renderWorkers: number,
    private readonly tenCrop: boolean,
  ) {}

  /** tenCrop: the original's fitness, the softmax averaged over 10 crops (see tenCrops). */
  static async open(classifier: Classifier, opts: RenderOptions, renderWorkers: number, tenCrop = false): Promise<Evaluator> {
    const pool = await WorkerPool.start<Uint8Array>(builtEntry('render-worker'), renderWorkers, opts, (m) => new FoolError('INTERNAL', `render worker failed to start: ${m}`));
    return new Evaluator(pool, classifier, opts, renderWorkers, tenCrop);
  }

  /** Pixels of a batch of candidates (HWC bytes, n images). */
  renderOnly(genomes: Candidate['genome'][]): Promise<Uint8Array[]> {
    const chunks = this.chunks(genomes.length);
    return Promise.all(chunks.map(([s, e]) => this.renderChunk(genomes.slice(s, e))));
  }

  /** One render job: packed into one transferred array where the encoding can (see GenomeEncoding.pack). */
  private renderChunk(genomes: Genome[]): Promise<Uint8Array> {
    const encoding = genomes.length > 0 ? encodingOf(genomes[0].encoding) : undefined;
    if (!encoding?.pack || genomes.some((g) => g.encoding !== encoding.name)) return this.render.run({ type: 'render', genomes });
    const packed = encoding.pack(genomes);
    return this.render.run({ type: 'render', encoding: encoding.name, packed }, [packed.buffer as ArrayBuffer]);
  }

  async evaluate(genomes: Candidate['genome'][]): Promise<Float32Array> {
    const { width, height, channels } = this.opts;
    const K = this.classifier.classes;
    const out = new Float32Array(genomes.length * K);
    await Promise.all(
      this.chunks(genomes.length).map(async ([s, e]) => {
        const pixels = await this.renderChunk(genomes.slice(s, e));
        const batch = { n: e - s, height, width, channels, data: pixels };
        const probs = this.tenCrop ? await this.classifyTenCrop(batch) : await this.classifier.classify(batch);
        out.set(probs, s * K);
      }),
    );
    return out;
  }

  private async classifyTenCrop(batch: PixelBatch): Promise<Float32Array> {
    const { height, width } = this.classifier.info.manifest.input;
    const K = this.classifier.classes;
    const probs = await this.classifier.classify(tenCrops(batch, height, width));
    const out = new Float32Array(batch.n * K);
    for (let i = 0; i < batch.n; i++) {
      for (let c = 0; c < 10; c++) for (let k = 0; k < K; k++) out[i * K + k] += probs[(i * 10 + c) * K + k];
      for (let k = 0; k < K; k++) out[i * K + k] /= 10;
    }
    return out;
  }

  /**
   * Large images: about four chunks per worker, so classification of the first chunk starts after
   * a small share of the rendering and the tail that cannot overlap stays short (two per worker
   * left ~10% more of a SqueezeNet generation unoverlapped). Small images (MNIST): two per worker,
   * since there the cost of each message outweighs the overlap (four: 1.40x instead of 1.21x).
   */
  private chunks(n: number): [number, number][] {
    const perWorker = this.opts.width * this.opts.height >= 64 * 64 ? 4 : 2;
    const parts = Math.max(1, Math.min(Math.ceil(n / 8), perWorker * Math.max(this.renderWorkers, this.classifier.workers)));
    const size = Math.ceil(n / parts);
    const out: [number, number][] = [];
    for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
    return out;
  }

  close(): Promise<void> {
    return this.render.close();
  }
}
