import { CPPN_INPUTS, CppnSettingsSchema, type EvolutionSettings } from '../../../../shared/engine';
import { geneToWeight, mutateCppn, randomCppn } from '../cppn';
import { CppnRenderer } from '../cppn-render';
import { expectGenome, expectSettings, type GenomeEncoding, type RenderOptions } from '../encoding';

/**
 * The CPPN encoding (paper-spec section 4): a small network drawn over the pixel coordinates.
 * Operators in engine/cppn.ts, the interpreter in engine/cppn-render.ts; stored as JSON text.
 */
export const cppnEncoding: GenomeEncoding = {
  name: 'cppn',
  settingsSchema: CppnSettingsSchema,

  random(settings, rng) {
    return { encoding: 'cppn', cppn: randomCppn(expectSettings(settings, 'cppn').channels, rng) };
  },

  vary(parent, _pool, settings, _generation, rng) {
    const s = expectSettings(settings, 'cppn');
    return { genome: { encoding: 'cppn', cppn: mutateCppn(expectGenome(parent.genome, 'cppn').cppn, s.cppn, rng).genome } };
  },

  renderer(opts) {
    const r = new CppnRenderer(opts);
    return (genome, out) => r.renderCppn(expectGenome(genome, 'cppn').cppn, out);
  },

  renderOptions(settings: EvolutionSettings): RenderOptions {
    const s = expectSettings(settings, 'cppn');
    return { width: s.width, height: s.height, channels: s.channels, colorSpace: s.colorSpace, coordinates: s.cppn.coordinates, weightMin: s.cppn.weightMin, weightMax: s.cppn.weightMax };
  },

  encode(genome) {
    return new TextEncoder().encode(JSON.stringify(expectGenome(genome, 'cppn').cppn));
  },

  decode(bytes) {
    return { encoding: 'cppn', cppn: JSON.parse(new TextDecoder().decode(bytes)) };
  },

  storesDeltas: false,

  /** The network as the app draws it: inputs, outputs named for the channels they paint, weights. */
  describe(genome, settings) {
    const g = expectGenome(genome, 'cppn').cppn;
    const s = expectSettings(settings, 'cppn');
    const outNames = s.channels === 1 ? ['grey'] : s.colorSpace === 'hls' ? ['H', 'L', 'S'] : ['H', 'S', 'V'];
    let k = 0;
    return {
      cppn: {
        nodes: [
          ...CPPN_INPUTS.map((label, id) => ({ id, kind: 'input' as const, activation: null, label })),
          ...g.nodes.map((n) => ({ id: n.id, kind: n.kind, activation: n.activation, label: n.kind === 'output' ? (outNames[k++] ?? `out${n.id}`) : `h${n.id}` })),
        ],
        connections: g.connections.map((c) => ({ from: c.from, to: c.to, weight: geneToWeight(c.gene, s.cppn) })),
      },
    };
  },

  exportJson(genome) {
    return expectGenome(genome, 'cppn').cppn;
  },
};
