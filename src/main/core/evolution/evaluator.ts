import type { Candidate } from '../../../shared/engine';
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
  ) {}

  static async open(classifier: Classifier, opts: RenderOptions, renderWorkers: number): Promise<Evaluator> {
    const pool = await WorkerPool.start<Uint8Array>(builtEntry('render-worker'), renderWorkers, opts, (m) => new FoolError('INTERNAL', `render worker failed to start: ${m}`));
    return new Evaluator(pool, classifier, opts, renderWorkers);
  }

  /** Pixels of a batch of candidates (HWC bytes, n images). */
  renderOnly(genomes: Candidate['genome'][]): Promise<Uint8Array[]> {
    const chunks = this.chunks(genomes.length);
    return Promise.all(chunks.map(([s, e]) => this.render.run({ type: 'render', genomes: genomes.slice(s, e) })));
  }

  async evaluate(genomes: Candidate['genome'][]): Promise<Float32Array> {
    const { width, height, channels } = this.opts;
    const K = this.classifier.classes;
    const out = new Float32Array(genomes.length * K);
    await Promise.all(
      this.chunks(genomes.length).map(async ([s, e]) => {
        const pixels = await this.render.run({ type: 'render', genomes: genomes.slice(s, e) });
        const probs = await this.classifier.classify({ n: e - s, height, width, channels, data: pixels });
        out.set(probs, s * K);
      }),
    );
    return out;
  }

  /** About two chunks per worker in flight: enough overlap, few messages. */
  private chunks(n: number): [number, number][] {
    const parts = Math.max(1, Math.min(n, 2 * Math.max(this.renderWorkers, this.classifier.workers)));
    const size = Math.ceil(n / parts);
    const out: [number, number][] = [];
    for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
    return out;
  }

  close(): Promise<void> {
    return this.render.close();
  }
}
