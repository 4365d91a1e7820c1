import type { ExperimentListing } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import { paramsSchema } from '../../../shared/experiment-params';
import { experimentKind, experimentKinds } from '../experiments/registry';
import { renderReport } from '../experiments/report';
import { ExperimentStore, type ExperimentRow } from '../store/experiments';
import type { ApiContext, Handlers } from './context';

type Methods = 'experiments.kinds' | 'experiments.list' | 'experiments.get' | 'experiments.start' | 'experiments.report';

/** A result with done: false was cut short (results saved before that field existed are complete). */
const cutShort = (result: unknown): boolean => typeof result === 'object' && result !== null && (result as { done?: unknown }).done === false;
const listing = (e: ExperimentRow): ExperimentListing => ({
  id: e.id,
  kind: e.kind,
  createdAt: e.createdAt,
  finished: e.result !== null && !cutShort(e.result),
  cancelled: e.result !== null && cutShort(e.result),
  params: e.params,
});

/** Experiments: every kind of the registry (experiments/registry.ts), run as jobs. */
export function experimentHandlers(ctx: ApiContext): Handlers<Methods> {
  const store = () => new ExperimentStore(ctx.lab.db);
  return {
    'experiments.kinds': () => experimentKinds().map((k) => ({ kind: k.kind, stored: k.stored ?? k.kind, description: k.description, params: k.params })),
    'experiments.list': () => store().list().map(listing),
    'experiments.get': (p) => {
      const e = store().get(p.experimentId);
      return { ...listing(e), result: e.result };
    },
    'experiments.start': async (p) => {
      const k = experimentKind(p.kind);
      const parsed = paramsSchema(k.params).safeParse(p.params);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new FoolError('BAD_INPUT', `invalid parameters for a ${k.kind} experiment: ${i.path.join('.') || '(params)'}: ${i.message}`, `See experiments.kinds, or "fool ${k.kind} --help"`);
      }
      const job = ctx.jobs.start(k.kind, (jc) => k.run(parsed.data, { ...jc, lab: ctx.lab, classifier: ctx.classifier }).then((r) => ({ experimentId: r.id, ...(r.result as object) })), { waitForIds: true });
      // Resolves once the experiment is stored; rejects with the kind's own error when its checks fail.
      const started = await job.started;
      if (started.experimentId === undefined) throw new FoolError('INTERNAL', `the ${k.kind} experiment ended without storing itself`);
      return { jobId: job.jobId, experimentId: started.experimentId };
    },
    'experiments.report': async (p) => {
      const r = await renderReport(ctx.lab, p.experimentId, p.outDir);
      return { experimentId: r.experiment.id, kind: r.experiment.kind, dir: r.dir, files: r.files };
    },
  };
}
