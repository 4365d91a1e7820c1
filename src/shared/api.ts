import { absolutePath, limitedInt } from './limits';
import { z } from 'zod';
import { ENCODINGS, type ArchiveStats } from './engine';
import type { ErrorPayload } from './errors';
import type { Manifest, ModelSummary } from './manifest';

/**
 * The one API contract between the renderer and the core, served by both hosts: the Electron
 * preload (IPC) and `fool serve` (HTTP + server-sent events). Every request is validated against
 * these schemas at the host boundary before it reaches the core.
 *
 * Transport (both hosts): call(method, params) -> { ok: true, result } | { ok: false, error }.
 * HTTP: POST /api/call/<method> with a JSON body; events: GET /api/events (text/event-stream).
 * Images: GET /api/image/<runId>/<individualId>.png?size=N (web) or fool://app/api/image/<runId>/<individualId>.png?size=N
 * (Electron: the app itself is served from fool://app/, so images are same-origin; fool://image/<runId>/<id>.png is served too).
 * Always build image URLs with the host's imageUrl(runId, individualId, size).
 * Web host with a token: opening the page with ?token=T sets an HttpOnly cookie that later requests carry.
 */

const id = z.number().int().nonnegative();
const runId = z.number().int().positive();

export const ApiRequests = {
  'models.list': z.object({}).strict(),
  'runs.list': z.object({}).strict(),
  'runs.get': z.object({ runId }).strict(),
  'runs.start': z
    .object({
      model: z.string().min(1),
      encoding: z.enum(ENCODINGS),
      generations: limitedInt('generations').optional(),
      batch: limitedInt('batch').optional(),
      seed: limitedInt('seed').optional(),
      overrides: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
  'runs.stop': z.object({ runId }).strict(),
  'runs.resume': z.object({ runId, generations: limitedInt('generations').optional() }).strict(),
  'runs.champions': z.object({ runId }).strict(),
  'individual.get': z.object({ runId, individualId: id }).strict(),
  /** Top-5 of an individual's image under any registered model (a first look at transferability). */
  'individual.classify': z.object({ runId, individualId: id, model: z.string().min(1) }).strict(),
  'lineage.get': z.object({ runId, class: id }).strict(),
  /** Repeated motifs found by the core in a champion's image. */
  'ablation.detect': z.object({ runId, individualId: id }).strict(),
  /** Classify the image with the masked pixels replaced by a neutral fill. mask: one byte per pixel (0/1), base64. */
  'ablation.apply': z
    .object({ runId, individualId: id, class: id, mask: z.string().min(1), fill: z.enum(['mean', 'grey', 'black']).default('mean') })
    .strict(),
  'ablation.save': z
    .object({ runId, individualId: id, class: id, mask: z.string().min(1), fill: z.enum(['mean', 'grey', 'black']).default('mean'), note: z.string().max(2000).optional() })
    .strict(),
  'ablation.list': z.object({ runId, individualId: id }).strict(),
  'export.run': z.object({ runId, outDir: absolutePath, classes: z.array(id).optional() }).strict(),
} as const;

export type ApiMethod = keyof typeof ApiRequests;
export type ApiParams<M extends ApiMethod> = z.input<(typeof ApiRequests)[M]>;

/** A run with its latest statistics, as run listings show it (CLI and app). */
export interface RunListing {
  runId: number;
  kind: 'evolution' | 'ascent';
  model: string;
  encoding: string;
  seed: number;
  status: 'running' | 'stopped' | 'finished' | 'failed';
  generation: number;
  generations: number | null;
  classes: number;
  median: number | null;
  at9999: number | null;
  createdAt: string;
}

export interface RunInfo extends RunListing {
  /** True while this host is running it (a run started from the command line shows 'running' but false). */
  live: boolean;
}

export interface StatsPoint {
  generation: number;
  median: number;
  mean: number;
  max: number;
  min: number;
  at99: number;
  at9999: number;
  evaluationsPerSecond: number;
  seconds: number;
}

export interface Champion {
  class: number;
  label: string;
  individualId: number;
  confidence: number;
  generation: number;
}

export interface Prediction {
  class: number;
  label: string;
  confidence: number;
}

export interface IndividualDetail {
  runId: number;
  individualId: number;
  parentId: number | null;
  generation: number;
  encoding: string;
  width: number;
  height: number;
  channels: 1 | 3;
  classesHeld: number[];
  /** Top-5 under the run's model, computed now from the re-rendered image. */
  top: Prediction[];
  /** CPPN genome (nodes, connections) or null. */
  cppn: { nodes: { id: number; kind: 'input' | 'output' | 'hidden'; activation: string | null; label: string }[]; connections: { from: number; to: number; weight: number }[] } | null;
  /** Pixel statistics for direct encodings (and any image). */
  pixels: { mean: number[]; std: number[]; histogram: number[] };
}

export interface LineageStep {
  individualId: number;
  parentId: number | null;
  generation: number;
  confidence: number | null;
  classesHeld: number[];
  labelsHeld: string[];
}

export interface Lineage {
  runId: number;
  class: number;
  label: string;
  chain: LineageStep[];
  /** Other champions sharing an ancestor with this one: the family (the paper saw one lineage win three lizard classes). */
  family: { class: number; label: string; individualId: number; commonAncestorId: number; commonAncestorGeneration: number }[];
}

export interface Motif {
  /** Bounding boxes of the copies of one repeated pattern (pixels). */
  copies: { x: number; y: number; width: number; height: number }[];
  score: number;
}

export interface AblationResult {
  confidenceBefore: number;
  confidenceAfter: number;
  top: Prediction[];
  maskedPixels: number;
}

export interface SavedAblation extends AblationResult {
  ablationId: number;
  class: number;
  fill: string;
  note: string | null;
  createdAt: string;
}

export interface ApiResults {
  'models.list': ModelSummary[];
  'runs.list': RunInfo[];
  'runs.get': { run: RunInfo; settings: Record<string, unknown>; stats: StatsPoint[]; labels: string[] };
  'runs.start': { runId: number };
  'runs.stop': { runId: number };
  'runs.resume': { runId: number };
  'runs.champions': Champion[];
  'individual.get': IndividualDetail;
  'individual.classify': { model: string; top: Prediction[] };
  'lineage.get': Lineage;
  'ablation.detect': Motif[];
  'ablation.apply': AblationResult;
  'ablation.save': SavedAblation;
  'ablation.list': SavedAblation[];
  'export.run': { dir: string; files: string[]; champions: number };
}

export type ApiResponse<M extends ApiMethod> = { ok: true; result: ApiResults[M] } | { ok: false; error: ErrorPayload };

export type ApiEvent =
  | { type: 'run.progress'; runId: number; generation: number; generations: number; stats: ArchiveStats; evaluationsPerSecond: number; etaSeconds: number }
  | { type: 'run.status'; runId: number; status: RunInfo['status']; message?: string };

/** Validates a request; a FoolError-shaped payload on failure (hosts return it without calling the core). */
export function parseRequest<M extends ApiMethod>(method: string, params: unknown): { ok: true; method: M; params: z.output<(typeof ApiRequests)[M]> } | { ok: false; error: ErrorPayload } {
  if (!Object.prototype.hasOwnProperty.call(ApiRequests, method)) {
    return { ok: false, error: { code: 'BAD_INPUT', message: `unknown API method "${method}"` } };
  }
  const r = ApiRequests[method as M].safeParse(params ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: { code: 'BAD_INPUT', message: `invalid request to ${method}: ${i.path.join('.') || '(body)'}: ${i.message}` } };
  }
  return { ok: true, method: method as M, params: r.data as z.output<(typeof ApiRequests)[M]> };
}

export type { Manifest };
