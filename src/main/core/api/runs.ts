import { FoolError } from '../../../shared/errors';
import type { ApiContext, Handlers } from './context';

/** Runs beyond the app's first methods: the full report of a run, and deleting one. */
export function runHandlers(ctx: ApiContext): Handlers<'runs.report' | 'runs.delete'> {
  const { lab } = ctx;
  return {
    'runs.report': (p) => {
      const r = lab.runs.get(p.runId);
      return { runId: r.id, kind: r.kind, model: r.model, encoding: r.encoding, seed: r.seed, status: r.status, settings: r.settings, stats: lab.runs.stats(r.id), lastGeneration: r.lastGeneration, evaluations: r.evaluations, seconds: r.seconds };
    },
    'runs.delete': (p) => {
      lab.runs.get(p.runId);
      if (ctx.isLive(p.runId)) throw new FoolError('BAD_INPUT', `run ${p.runId} is running`, 'Stop it first (runs.stop), then delete it');
      lab.runs.delete(p.runId);
      return { runId: p.runId };
    },
  };
}
