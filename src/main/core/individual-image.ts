import { EvolutionSettingsSchema } from '../../shared/engine';
import { encodingOf } from './engine/encodings';
import { Renderer, renderOptions } from './engine/render';
import type { Lab } from './lab';
import type { Image } from './models/image';

/**
 * The pixels of a stored individual: re-rendered from its genome for an evolution run (images are
 * not stored), the stored image itself for a gradient-ascent run. Exports, reports, experiments,
 * the ablation tools and the app's detail page all see an individual through this one function.
 */
export function individualImage(lab: Lab, runId: number, individualId: number): Image {
  const run = lab.runs.get(runId);
  if (run.kind === 'ascent') {
    const ind = lab.runs.individual(runId, individualId);
    const meta = ind.extra as { width: number; height: number; channels: 1 | 3 };
    return { width: meta.width, height: meta.height, channels: meta.channels, data: ind.genome };
  }
  const settings = EvolutionSettingsSchema.parse(run.settings);
  const renderer = new Renderer(renderOptions(settings));
  const genome = encodingOf(settings.encoding).decode(lab.runs.individual(runId, individualId).genome);
  return { width: settings.width, height: settings.height, channels: settings.channels, data: renderer.render(genome) };
}
