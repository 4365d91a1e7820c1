import type { Candidate, Genome } from '../../../shared/engine';
import { encodingOf } from '../engine/encodings';
import { FoolError } from '../../../shared/errors';
import type { RenderOptions } from '../engine/render';
import type { Classifier } from '../models/classifier';
import { builtEntry } from '../paths';
import { WorkerPool } from '../workers/pool';

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

  /** tenCrop: the original's fitness, the softmax averaged over 10 crops (models/ten-crop.ts). */
  static async open(
    classifier: Classifier,
    opts: RenderOptions,
    renderWorkers: number,
    tenCrop = false,
    renderers: Promise<WorkerPool<Uint8Array>> = Evaluator.startRenderers(opts, renderWorkers),
  ): Promise<Evaluator> {
    return new Evaluator(await renderers, classifier, opts, renderWorkers, tenCrop);
  }

  /** The render workers alone: a run starts them before opening the classifier, so both start at once. */
  static startRenderers(opts: RenderOptions, renderWorkers: number): Promise<WorkerPool<Uint8Array>> {
    return WorkerPool.start<Uint8Array>(builtEntry('render-worker'), renderWorkers, opts, (m) => new FoolError('INTERNAL', `render worker failed to start: ${m}`));
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

  evaluate(genomes: Candidate['genome'][]): Promise<Float32Array> {
    return this.evaluateBy(genomes.length, (s, e) => genomes.slice(s, e));
  }

  /**
   * Probabilities of n genomes that genomesOf(start, end) gives chunk by chunk: each chunk goes to
   * the render workers as soon as it is given, so they start on the first chunk while the next
   * ones are still being made (the evolution makes a generation's children this way).
   */
  async evaluateBy(n: number, genomesOf: (start: number, end: number) => Candidate['genome'][]): Promise<Float32Array> {
    const { width, height, channels } = this.opts;
    const K = this.classifier.classes;
    const out = new Float32Array(n * K);
    await Promise.all(
      this.chunks(n).map(async ([s, e]) => {
        const pixels = await this.renderChunk(genomesOf(s, e));
        const batch = { n: e - s, height, width, channels, data: pixels };
        // --ten-crop: the crops are cut in the classification workers (models/ten-crop.ts)
        const probs = this.tenCrop ? await this.classifier.classifyTenCrop(batch) : await this.classifier.classify(batch);
        out.set(probs, s * K);
      }),
    );
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
