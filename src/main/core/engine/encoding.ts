import type { z } from 'zod';
import type { IndividualDetail } from '../../../shared/api';
import type { Encoding, EvolutionSettings, Genome } from '../../../shared/engine';
import type { Elite } from './archive';
import type { Rng } from './rng';

/**
 * The interface every genome encoding implements (the encoding table, pyribs-style: the scheduler,
 * the renderer, the store's callers and the API consult an encoding through this, never by name).
 * A new encoding is one file in engine/encodings/ implementing it, plus one line in
 * engine/encodings/index.ts (its genome type and settings schema sit in src/shared/engine.ts, which
 * the API and the app read). docs/architecture.md has the recipe.
 *
 * Implementations receive the general Genome and EvolutionSettings and narrow them (a genome of
 * another encoding is a bug: they throw). Determinism: every random choice comes from the `rng`
 * given, in a fixed order, so runs and resumes stay bit-identical.
 */

/** How a genome renders: image size and colour, and the CPPN's inputs and weight range (ignored by encodings without them). */
export interface RenderOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  colorSpace: 'hsv' | 'hls';
  coordinates: 'pixel' | 'normalized';
  weightMin: number;
  weightMax: number;
}

/** Genome -> 8-bit HWC pixels (RGB for 3 channels) into `out` when given. Keeps its scratch between calls. */
export type GenomeRenderer = (genome: Genome, out?: Uint8Array) => Uint8Array;

/** What the app shows of a genome beside its image (IndividualDetail's genome fields). */
export type GenomeView = Pick<IndividualDetail, 'cppn'>;

/** One child of a generation, made from a parent the scheduler drew from the archive. */
export interface Variation {
  genome: Genome;
  /** Set when a second parent took part (crossover). */
  secondParentId?: number;
}

export interface GenomeEncoding {
  /** Its name: the `encoding` of settings, runs and genomes. */
  readonly name: Encoding;
  /** Its settings (EvolutionSettings with `encoding: name`), as validated and recorded with each run. */
  readonly settingsSchema: z.ZodType;
  /** A random genome of generation 0. */
  random(settings: EvolutionSettings, rng: Rng): Genome;
  /**
   * A child of `parent` at `generation` (mutation, and crossover with another elite of `pool` when the
   * settings ask for it). The parent's genome is shared with the archive: never mutate it.
   */
  vary(parent: Elite, pool: readonly Elite[], settings: EvolutionSettings, generation: number, rng: Rng): Variation;
  /** Its renderer for these options (one per thread: it keeps scratch buffers). */
  renderer(opts: RenderOptions): GenomeRenderer;
  /**
   * Optional: a batch of its genomes as one array of numbers, and back (exactly), for the trip to the
   * render workers: one transferred buffer instead of a structured clone of every object, which on
   * MNIST cost the main thread more than the rest of its work per generation.
   */
  pack?(genomes: readonly Genome[]): Float64Array;
  unpack?(data: Float64Array): Genome[];
  /** The render options its runs use. */
  renderOptions(settings: EvolutionSettings): RenderOptions;
  /** The genome as stored (individuals.genome). Stored bytes are forever: never change a released format. */
  encode(genome: Genome): Uint8Array;
  /** Back from the stored bytes (the whole genome, as the store resolves it). */
  decode(bytes: Uint8Array): Genome;
  /**
   * True when its stored genomes are float32 words of a fixed length that a child shares mostly with
   * its parent: the store then keeps a child as the words that changed (store/genome-delta.ts).
   */
  readonly storesDeltas: boolean;
  /** What the app shows beside the image. */
  describe(genome: Genome, settings: EvolutionSettings): GenomeView;
  /** The genome in an exported gallery's manifest.json (plain JSON). */
  exportJson(genome: Genome): unknown;
}

/** The genome as `name`'s, or a clear internal error (an archive or a run never mixes encodings). */
export function expectGenome<N extends Genome['encoding']>(g: Genome, name: N): Extract<Genome, { encoding: N }> {
  if (g.encoding !== name) throw new Error(`mixed encodings: a ${g.encoding} genome where ${name} was expected`);
  return g as Extract<Genome, { encoding: N }>;
}

/** The settings as `name`'s. */
export function expectSettings<N extends EvolutionSettings['encoding']>(s: EvolutionSettings, name: N): Extract<EvolutionSettings, { encoding: N }> {
  if (s.encoding !== name) throw new Error(`mixed encodings: ${s.encoding} settings where ${name} was expected`);
  return s as Extract<EvolutionSettings, { encoding: N }>;
}
