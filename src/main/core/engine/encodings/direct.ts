import { DirectSettingsSchema, type EvolutionSettings } from '../../../../shared/engine';
import { directGenomeLength, directMutationRate, mutateDirectInPlace, randomDirect, renderDirect, sbx } from '../direct';
import { expectGenome, expectSettings, type GenomeEncoding, type RenderOptions } from '../encoding';

/**
 * The direct encoding (paper-spec section 3): one gene in [0,1] per pixel value. Operators in
 * engine/direct.ts; stored as the float32 genes themselves (little-endian), a winning child as the
 * genes it changed against its parent (the store's genome deltas).
 */
export const directEncoding: GenomeEncoding = {
  name: 'direct',
  settingsSchema: DirectSettingsSchema,

  random(settings, rng) {
    const s = expectSettings(settings, 'direct');
    return { encoding: 'direct', genes: randomDirect(directGenomeLength(s.width, s.height, s.channels), rng) };
  },

  vary(parent, pool, settings, generation, rng) {
    const p = expectSettings(settings, 'direct').direct;
    const first = expectGenome(parent.genome, 'direct');
    let genes: Float32Array;
    let secondParentId: number | undefined;
    // The order of the draws is part of the run's identity (determinism, resume): keep it.
    if (p.crossover === 'sbx' && rng.chance(p.sbxRate)) {
      const other = rng.choice(pool);
      genes = sbx(first.genes, expectGenome(other.genome, 'direct').genes, p.sbxEta, rng);
      secondParentId = other.individualId;
    } else {
      genes = new Float32Array(first.genes);
    }
    mutateDirectInPlace(genes, directMutationRate(p, generation), p.eta, rng);
    return secondParentId === undefined ? { genome: { encoding: 'direct', genes } } : { genome: { encoding: 'direct', genes }, secondParentId };
  },

  renderer(opts) {
    return (genome, out) => renderDirect(expectGenome(genome, 'direct').genes, opts.channels, opts.colorSpace, out);
  },

  renderOptions(s: EvolutionSettings): RenderOptions {
    // The CPPN fields are unused here; fixed so the options stay one plain shape.
    return { width: s.width, height: s.height, channels: s.channels, colorSpace: s.colorSpace, coordinates: 'pixel', weightMin: -10, weightMax: 10 };
  },

  encode(genome) {
    const g = expectGenome(genome, 'direct').genes;
    return new Uint8Array(g.buffer, g.byteOffset, g.byteLength);
  },

  decode(bytes) {
    // A copy: blobs from SQLite may sit at any offset, and Float32Array needs 4-byte alignment.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return { encoding: 'direct', genes: new Float32Array(copy.buffer) };
  },

  storesDeltas: true,

  describe() {
    return { cppn: null };
  },

  exportJson(genome) {
    return { encoding: 'direct', genes: expectGenome(genome, 'direct').genes.length, note: 'float32 genes; see the database' };
  },
};
