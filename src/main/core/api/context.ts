import type { z } from 'zod';
import type { ApiMethod, ApiRequests, ApiResults } from '../../../shared/api';
import type { JobManager } from '../jobs';
import type { Lab } from '../lab';
import type { Classifier, ClassifierOptions } from '../models/classifier';

/** What a domain module of the API works with: the lab, the jobs, the host's classifier options. */
export interface ApiContext {
  lab: Lab;
  jobs: JobManager;
  classifier?: ClassifierOptions;
  /** Whether this process is running the run now (a live run cannot be deleted). */
  isLive(runId: number): boolean;
  /** The API's open classifier for a model (one worker: single images; kept for the next call). */
  openClassifier(model: string): Promise<Classifier>;
}

/** A method's implementation: validated params in, its result out (FoolErrors for bad input). */
export type Handler<M extends ApiMethod> = (p: z.output<(typeof ApiRequests)[M]>) => ApiResults[M] | Promise<ApiResults[M]>;

/** One domain's methods. */
export type Handlers<M extends ApiMethod> = { [K in M]: Handler<K> };
