import type { ApiEvent } from '../../../shared/api';
import type { GenerationStats } from '../../../shared/engine';
import { api } from './api';
import { notify } from './toast.svelte';

/** The latest progress of each run this host is running, fed by the host's events. */
export interface LiveProgress {
  generation: number;
  generations: number;
  stats: GenerationStats;
  evaluationsPerSecond: number;
  etaSeconds: number;
  /** The run's totals after this generation (images evaluated, compute seconds) and its provider. */
  evaluations: number;
  seconds: number;
  provider: string;
  /** When the event arrived (ISO): the generation's commit, as the run's "last written". */
  at: string;
}

export const live = $state({
  progress: {} as Record<number, LiveProgress>,
  /** Every generation's statistics from progress events, per run, so a chart opened mid-run can append what it has not fetched. */
  points: {} as Record<number, GenerationStats[]>,
  /** Bumped on every status change: views that show run state refetch when it moves. */
  statusVersion: 0,
  /** Jobs (experiments, evaluations, ascent) as their events tell: progress, then the end. */
  jobs: {} as Record<number, LiveJob>,
  /** Bumped when a job ends: lists that show jobs' results refetch. */
  jobVersion: 0,
});

export interface LiveJob {
  kind: string;
  done: number;
  total: number;
  message: string;
  status: 'running' | 'finished' | 'cancelled' | 'failed';
  error?: string;
  result?: unknown;
}

function onEvent(e: ApiEvent): void {
  if (e.type === 'run.progress') {
    live.progress[e.runId] = {
      generation: e.generation,
      generations: e.generations,
      stats: e.stats,
      evaluationsPerSecond: e.evaluationsPerSecond,
      etaSeconds: e.etaSeconds,
      evaluations: e.evaluations,
      seconds: e.seconds,
      provider: e.provider,
      at: new Date().toISOString(),
    };
    (live.points[e.runId] ??= []).push(e.stats);
  } else if (e.type === 'job.progress') {
    live.jobs[e.jobId] = { kind: e.kind, done: e.done, total: e.total, message: e.message, status: 'running' };
  } else if (e.type === 'job.end') {
    const j = live.jobs[e.jobId];
    live.jobs[e.jobId] = { kind: e.kind, done: j?.done ?? 0, total: j?.total ?? 0, message: j?.message ?? '', status: e.status, error: e.error?.message, result: e.result };
    live.jobVersion++;
  } else if (e.type === 'run.status') {
    live.statusVersion++;
    if (e.status === 'failed') notify(`Run ${e.runId} failed${e.message ? `: ${e.message}` : ''}`, 'error');
    else if (e.status === 'finished') notify(`Run ${e.runId} finished`);
  }
}

let started = false;
/** Subscribes once for the life of the app. */
export function startLiveEvents(): void {
  if (started) return;
  started = true;
  api.onEvent(onEvent);
}
