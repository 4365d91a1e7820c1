import type { EvolutionSettings, CppnGenome, Genome } from '../../../shared/engine';
import { CppnRenderer, type CppnProbe } from './cppn-render';
import type { GenomeRenderer, RenderOptions } from './encoding';
import { encodingOf } from './encodings';

export type { RenderOptions } from './encoding';
export type { CppnProbe } from './cppn-render';

/**
 * Genome -> 8-bit HWC pixels (channels 1 or 3, RGB), exactly what the classification service takes,
 * for a genome of any encoding: each encoding renders its own (engine/encodings/), this keeps one
 * renderer per encoding met, with its scratch buffers.
 */

/** The render options of a run's settings (its encoding's). */
export function renderOptions(s: EvolutionSettings): RenderOptions {
  return encodingOf(s.encoding).renderOptions(s);
}

export class Renderer {
  readonly pixels: number;
  private readonly byEncoding = new Map<string, GenomeRenderer>();
  private cppn?: CppnRenderer;

  constructor(readonly opts: RenderOptions) {
    this.pixels = opts.width * opts.height;
  }

  /** Renders any genome of these settings. */
  render(genome: Genome, out?: Uint8Array): Uint8Array {
    let r = this.byEncoding.get(genome.encoding);
    if (!r) this.byEncoding.set(genome.encoding, (r = encodingOf(genome.encoding).renderer(this.opts)));
    return r(genome, out);
  }

  /** A CPPN genome alone (the operator tests, the renderer's hand examples and the genome tools call it). */
  renderCppn(g: CppnGenome, out?: Uint8Array, probe?: CppnProbe): Uint8Array {
    return (this.cppn ??= new CppnRenderer(this.opts)).renderCppn(g, out, probe);
  }
}
