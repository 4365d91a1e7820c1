import { FoolError } from '../../../shared/errors';
import type { ApiContext, Handlers } from './context';

/** Jobs of this process: list, look up, cancel. */
export function jobHandlers(ctx: ApiContext): Handlers<'jobs.list' | 'jobs.get' | 'jobs.cancel'> {
  const get = (jobId: number) => {
    const j = ctx.jobs.get(jobId);
    if (!j) throw new FoolError('NOT_FOUND', `there is no job ${jobId} in this process`, 'List them with jobs.list (jobs end with the process that ran them)');
    return j;
  };
  return {
    'jobs.list': () => ctx.jobs.list(),
    'jobs.get': (p) => get(p.jobId),
    // Cancelling a job that has ended is a no-op: the caller's wish already holds.
    'jobs.cancel': (p) => (get(p.jobId), { jobId: p.jobId, cancelled: ctx.jobs.cancel(p.jobId) }),
  };
}
