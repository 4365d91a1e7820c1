import { z } from 'zod';

/**
 * Edits of a CPPN genome, as the genome tools (app, API, `fool ablate --genome`) express them, and
 * what the core reports about a genome's repetition. Node ids are the genome's own (inputs 0..3 =
 * x, y, d, bias; outputs 4..; hidden nodes after them).
 */

const nodeId = z.number().int().nonnegative();

export const GenomeEditSchema = z.discriminatedUnion('op', [
  /** The node's output replaced at every pixel by 0, or by its own mean over the image. */
  z.object({ op: z.literal('node-off'), node: nodeId, value: z.enum(['zero', 'mean']).default('zero') }).strict(),
  /** The connection's weight set to 0. */
  z.object({ op: z.literal('connection-off'), from: nodeId, to: nodeId }).strict(),
  /** The connection's weight set to `weight` (within the run's weight range). */
  z.object({ op: z.literal('weight'), from: nodeId, to: nodeId, weight: z.number().finite() }).strict(),
  /** Every incoming weight of the node except the bias multiplied by `factor` (0..1: a lower frequency for a sine). */
  z.object({ op: z.literal('scale-in'), node: nodeId, factor: z.number().min(0).max(1) }).strict(),
]);
export type GenomeEdit = z.output<typeof GenomeEditSchema>;
export type GenomeEditInput = z.input<typeof GenomeEditSchema>;
export const GenomeEditsSchema = z.array(GenomeEditSchema).max(1000);

/** How repetition is removed from a genome. */
export const REMOVALS = ['knockout', 'frequency'] as const;
export type Removal = (typeof REMOVALS)[number];

/** One node whose activation over the image repeats. */
export interface PeriodicElement {
  node: number;
  label: string;
  /** Pixels per repeat, as seen in the node's activation image. */
  period: number;
  kind: 'stripes' | 'grid' | 'rings';
  angle: number;
  strength: number;
  /**
   * True when none of its parents repeats: the repetition starts here (typically a sine of x, y or
   * d). Removing the repetition acts on these.
   */
  origin: boolean;
  /** The incoming connections that set the period (from an input or a node), with their weights. */
  inputs: { from: number; label: string; weight: number }[];
}

export interface RepetitionReport {
  elements: PeriodicElement[];
  /** The edits that remove the repetition, per method. */
  removal: Record<Removal, GenomeEdit[]>;
}

/** One node's activation over the image (grey PNG thumbnail as a data URL) and whether it repeats. */
export interface NodeActivation {
  node: number;
  label: string;
  kind: 'output' | 'hidden';
  activation: string;
  /** Feeds an output (nodes that do not cannot change the image). */
  used: boolean;
  png: string;
  period: { period: number; kind: PeriodicElement['kind'] } | null;
}

// ---- the genome ablation experiment (`fool ablate RUN --genome`) ---------------------------------

export interface GenomeAblationParams {
  runId: number;
  remove: Removal;
  /** Control draws per champion. */
  draws: number;
  seed: number;
}

export interface GenomeAblatedImage {
  class: number;
  label: string;
  individualId: number;
  /** Nodes whose activation repeats (all), and the origins the removal acts on, with their periods. */
  periodicNodes: number;
  origins: { node: number; label: string; period: number; kind: string; inputs: string }[];
  before: number;
  /** After removing the repetition; null when the genome has none. */
  after: number | null;
  /** One confidence per control draw (empty when there is no repetition, or no node to draw). */
  control: number[];
  /** Nodes each control draw switched (the same as the removal's origins, or fewer when the genome has fewer non-repeating nodes). */
  controlNodes: number;
  controlMean: number | null;
  controlStd: number | null;
  edits: GenomeEdit[];
}

export interface GenomeAblationSummary {
  champions: number;
  withRepetition: number;
  /** Of those with repetition: the share whose confidence dropped by more than 0.01 points. */
  droppedShare: number;
  medianDrop: number;
  meanDrop: number;
  /** The same over the mean of each champion's control draws. */
  controlDroppedShare: number;
  controlMedianDrop: number;
  controlMeanDrop: number;
  /** Of those with a control: the share where removing the repetition hurt more than the control's mean. */
  worseThanControlShare: number;
  withControl: number;
  medianPeriod: number;
  kinds: Record<'stripes' | 'grid' | 'rings', number>;
}

export interface GenomeAblationResult {
  runId: number;
  model: string;
  remove: Removal;
  draws: number;
  images: GenomeAblatedImage[];
  summary: GenomeAblationSummary;
  done: boolean;
  seconds: number;
}

