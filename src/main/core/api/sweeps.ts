import { SweepStore } from '../store/sweeps';
import { createSweep, followSweep, tasksToSubmit } from '../sweeps/sweep';
import type { ApiContext, Handlers } from './context';

type Methods = 'sweeps.list' | 'sweeps.get' | 'sweeps.start' | 'sweeps.resume';

/** Sweeps: many runs here or on Slurm, imported as they finish (sweeps/sweep.ts); following one is a job. */
export function sweepHandlers(ctx: ApiContext): Handlers<Methods> {
  const store = () => new SweepStore(ctx.lab.db);
  const follow = (sweepId: number, submit: number[]) => ctx.jobs.start('sweep', (jc) => followSweep(ctx.lab, sweepId, submit, jc));
  return {
    'sweeps.list': () => store().list(),
    'sweeps.get': (p) => store().get(p.sweepId),
    'sweeps.start': async (p) => {
      // Planned, checked and stored before the job starts: a bad spec (unknown model, a used folder,
      // options sbatch refuses) is the caller's error.
      const sweepId = await createSweep(ctx.lab, p.spec);
      const job = follow(sweepId, store().tasks(sweepId).map((t) => t.task));
      return { jobId: job.jobId, sweepId };
    },
    'sweeps.resume': async (p) => {
      store().spec(p.sweepId);
      const resubmitted = await tasksToSubmit(ctx.lab, p.sweepId, true);
      const job = follow(p.sweepId, resubmitted);
      return { jobId: job.jobId, sweepId: p.sweepId, resubmitted };
    },
  };
}
