import { z } from 'zod';
import type { ParamSpec } from './experiment-params';

/**
 * Settings and plain data types of the evolution engine, shared by the core, the hosts and the store.
 * Every number here comes from ../shared/docs/paper-spec.md sections 2-4. Where the paper and the
 * authors' released code (sferes2 + Caffe) disagree, the default is the paper's and the code's
 * version is a named option. The full, parsed settings object is recorded with each run.
 */

export const TASKS = ['mnist', 'imagenet'] as const;
export type Task = (typeof TASKS)[number];
export const ENCODINGS = ['direct', 'cppn'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const ACTIVATIONS = ['sine', 'sigmoid', 'gaussian', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const prob = z.number().min(0).max(1);
const positiveInt = z.number().int().positive();

/** Direct encoding (paper-spec section 3). */
export const DirectParamsSchema = z.object({
  /** Per-gene mutation probability at generation 1. */
  mutationRate: prob.default(0.1),
  /** 'halve-every-1000': the paper (rate / 2^floor(generation / 1000)); 'fixed': the released code. */
  rateSchedule: z.enum(['halve-every-1000', 'fixed']).default('halve-every-1000'),
  /** Distribution index of polynomial mutation ("mutation strength 15"). */
  eta: z.number().positive().default(15),
  /** 'none': the paper; 'sbx': the released code (without its reset-to-0.5 bug). */
  crossover: z.enum(['none', 'sbx']).default('none'),
  /** Probability that a child is made by SBX from two parents (the released code's cross_rate). */
  sbxRate: prob.default(0.5),
  /** Distribution index of SBX (the released code's eta_c). */
  sbxEta: z.number().positive().default(10),
});
export type DirectParams = z.infer<typeof DirectParamsSchema>;

/** CPPN encoding (paper-spec section 4). */
export const CppnParamsSchema = z.object({
  /**
   * What x and y feed the network. The paper does not say; the only documented choice is the released
   * code's, which produced the paper's images: raw pixel indices 0..W-1 / 0..H-1, with d computed from
   * coordinates normalised to [-1, 1]. So 'pixel' is the default (it is the paper's version as far as
   * anyone can tell); 'normalized' feeds x, y in [-1, 1] (the usual CPPN convention, Picbreeder).
   */
  coordinates: z.enum(['pixel', 'normalized']).default('pixel'),
  /** 1. per-weight probability of polynomial mutation, in gene space. */
  weightMutationRate: prob.default(0.1),
  /** Distribution index of the weights' polynomial mutation. */
  eta: z.number().positive().default(15),
  /** 2. per-node probability that its activation is redrawn uniformly. */
  activationMutationRate: prob.default(0.1),
  /** 3. probability to add one feed-forward connection. */
  addConnection: prob.default(0.5),
  /** 4. probability to delete one random connection. */
  deleteConnection: prob.default(0.3),
  /** 5. probability to split one random connection with a new node. */
  addNode: prob.default(0.5),
  /** 6. probability to delete one random hidden node. */
  deleteNode: prob.default(0.2),
  /** Weight gene g in [0,1] maps to w = weightMin + g * (weightMax - weightMin): 20g - 10. */
  weightMin: z.number().default(-10),
  weightMax: z.number().default(10),
});
export type CppnParams = z.infer<typeof CppnParamsSchema>;

const CommonSchema = {
  /** Image the genome renders to (what the classification service takes). */
  width: positiveInt,
  height: positiveInt,
  /** 1: grey (MNIST); 3: colour read through `colorSpace`, emitted as RGB bytes. */
  channels: z.union([z.literal(1), z.literal(3)]),
  /**
   * How 3 channel values are read: H, S, V (the paper) or OpenCV H, L, S (the released code, which
   * applies cv::cvtColor(HLS2BGR) to both direct and CPPN images). Ignored for grey images.
   */
  colorSpace: z.enum(['hsv', 'hls']).default('hsv'),
  /** Random genomes evaluated at generation 0. */
  initSize: positiveInt,
  /** Children per later generation. */
  batchSize: positiveInt,
  /** Generations to run (the paper's reported length by default); generation 0 is the random start. */
  generations: positiveInt,
};

export const DirectSettingsSchema = z.object({
  encoding: z.literal('direct'),
  ...CommonSchema,
  direct: DirectParamsSchema.prefault({}),
});
export const CppnSettingsSchema = z.object({
  encoding: z.literal('cppn'),
  ...CommonSchema,
  cppn: CppnParamsSchema.prefault({}),
});
export const EvolutionSettingsSchema = z.discriminatedUnion('encoding', [DirectSettingsSchema, CppnSettingsSchema]);
export type DirectSettings = z.infer<typeof DirectSettingsSchema>;
export type CppnSettings = z.infer<typeof CppnSettingsSchema>;
export type EvolutionSettings = z.infer<typeof EvolutionSettingsSchema>;
/** What a host may send: the same with every defaulted field optional. */
export type EvolutionSettingsInput = z.input<typeof EvolutionSettingsSchema>;

/**
 * The named options a host sets on top of the paper's defaults (the CLI's flags): each one switches a
 * paper default to the released code's version, or picks the CPPN coordinates the paper leaves open.
 */
export interface EngineOptions {
  colorSpace?: 'hsv' | 'hls';
  coordinates?: CppnParams['coordinates'];
  rateSchedule?: DirectParams['rateSchedule'];
  crossover?: DirectParams['crossover'];
}

/**
 * EngineOptions described as parameters (src/shared/experiment-params.ts): the CLI's flags of every
 * command that runs evolution, and the 'Engine options' box of the experiment forms. None has a
 * default: left out, the paper's choice stands.
 */
export const ENGINE_OPTION_PARAMS: readonly ParamSpec[] = [
  { name: 'colorSpace', type: 'choice', label: 'Colour space', help: 'how 3 genes/outputs are read (paper hsv; released code hls)', choices: ['hsv', 'hls'], cli: '--color-space <c>' },
  { name: 'coordinates', type: 'choice', label: 'CPPN coordinates', help: 'CPPN inputs x, y (released code: pixel)', choices: ['pixel', 'normalized'], cli: '--coordinates <c>' },
  { name: 'rateSchedule', type: 'choice', label: 'Mutation rate', help: 'direct mutation rate (paper: halve every 1000)', choices: ['halve-every-1000', 'fixed'], cli: '--rate-schedule <s>' },
  { name: 'crossover', type: 'choice', label: 'Crossover', help: 'direct encoding crossover (paper: none; released code: sbx)', choices: ['none', 'sbx'], cli: '--crossover <c>' },
] satisfies (ParamSpec & { name: keyof EngineOptions })[];

/** EngineOptions as the partial settings object EvolutionSettingsSchema merges over the defaults. */
export function engineOverrides(o: EngineOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o.colorSpace) out.colorSpace = o.colorSpace;
  if (o.coordinates) out.cppn = { coordinates: o.coordinates };
  if (o.rateSchedule || o.crossover) out.direct = { ...(o.rateSchedule ? { rateSchedule: o.rateSchedule } : {}), ...(o.crossover ? { crossover: o.crossover } : {}) };
  return out;
}

/** Paper-spec section 2's table. */
export function defaultSettings(task: Task, encoding: 'direct'): DirectSettings;
export function defaultSettings(task: Task, encoding: 'cppn'): CppnSettings;
export function defaultSettings(task: Task, encoding: Encoding): EvolutionSettings;
export function defaultSettings(task: Task, encoding: Encoding): EvolutionSettings {
  const image = task === 'mnist' ? { width: 28, height: 28, channels: 1 as const } : { width: 256, height: 256, channels: 3 as const };
  const size = task === 'imagenet' && encoding === 'cppn' ? 400 : 200;
  const generations = task === 'mnist' ? 200 : encoding === 'cppn' ? 5000 : 20000;
  return EvolutionSettingsSchema.parse({ encoding, ...image, initSize: size, batchSize: size, generations });
}

// ---------------------------------------------------------------------------------------------
// Genomes: plain data. A direct genome is a Float32Array; a CPPN genome is plain JSON.

/**
 * CPPN inputs are implicit nodes with fixed ids: 0 = x, 1 = y, 2 = d, 3 = bias (always 1).
 * Outputs have ids 4.. (4 + outputs - 1); hidden nodes get ids from `nextNodeId`, which each genome
 * carries and its children inherit, so a node keeps its id down a lineage (innovation-style): the
 * same id in parent and child is the same node, which lets the app draw networks and lineage diffs.
 */
export const CPPN_INPUTS = ['x', 'y', 'd', 'bias'] as const;
export const CPPN_FIRST_OUTPUT_ID = CPPN_INPUTS.length;

export interface CppnNode {
  id: number;
  kind: 'output' | 'hidden';
  activation: Activation;
}
export interface CppnConnection {
  from: number;
  to: number;
  /** Weight gene in [0,1]; the weight is weightMin + gene * (weightMax - weightMin). */
  gene: number;
}
export interface CppnGenome {
  /** Output nodes first (ids 4..), then hidden nodes. Inputs are implicit (CPPN_INPUTS). */
  nodes: CppnNode[];
  connections: CppnConnection[];
  nextNodeId: number;
}

export type Genome = { encoding: 'direct'; genes: Float32Array } | { encoding: 'cppn'; cppn: CppnGenome };

/** One candidate of ask(): evaluate `genome`'s image, then tell the probabilities back. */
export interface Candidate {
  individualId: number;
  /** null at generation 0 (random genome). With SBX crossover this is the first parent. */
  parentId: number | null;
  /** Second parent of an SBX child, otherwise absent. */
  secondParentId?: number;
  generation: number;
  genome: Genome;
}

/**
 * One generation's statistics, the per-generation log line of paper-spec section 2: the one type the
 * engine reports, the store keeps, the API returns and the app draws. Its names are the fields of
 * `fool runs show --json` (docs/cli.md).
 */
export interface GenerationStats {
  generation: number;
  /** Over all cells of each cell's own-class probability; an empty cell counts as 0. */
  median: number;
  mean: number;
  max: number;
  min: number;
  /** Cells holding a champion. */
  occupied: number;
  /** Cells at or above 0.99 and 0.9999. */
  at99: number;
  at9999: number;
  /** Images evaluated per second during this generation. */
  evaluationsPerSecond: number;
  /** Seconds this generation took (ask, evaluate, tell). */
  seconds: number;
}

/** The part of GenerationStats the archive's cells give; the loop adds the generation and its timing. */
export type ArchiveStats = Omit<GenerationStats, 'generation' | 'evaluationsPerSecond' | 'seconds'>;

/** The champion of one cell (class) of a run: what `runs.champions` and `fool evolve --json` list. */
export interface Champion {
  class: number;
  label: string;
  individualId: number;
  confidence: number;
  /** The generation it won the cell. */
  generation: number;
}
