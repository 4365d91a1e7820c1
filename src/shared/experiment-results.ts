/**
 * The experiments' stored results, as the core writes them and the app and reports read them
 * (experiments.get returns one of these as `result`, by kind).
 */
import type { Encoding } from './engine';

export interface TransferImage {
  runId: number;
  class: number;
  label: string;
  individualId: number;
  /** Confidence for `class` under each target model, by name. */
  confidence: Record<string, number>;
}

export interface TransferPair {
  source: string;
  target: string;
  images: number;
  at99: number;
  at9999: number;
  median: number;
  /** Of the images at >= 99.99% on the source, the share also at >= 99.99% on the target. */
  at9999GivenSource: number | null;
}

export interface TransferResult {
  sources: string[];
  targets: string[];
  pairs: TransferPair[];
  images: TransferImage[];
  /** False when cancelled: `targets` holds the models classified in full before it (absent in results saved before this field: done). */
  done?: boolean;
  seconds: number;
}

export interface RetrainRunResult {
  runId: number;
  seed: number;
  /** Median over the 10 digit cells of their best confidence at the end. */
  median: number;
  /** First generation at which all 10 digit cells were at >= 99.99% (null: never). */
  generationsTo9999: number | null;
}

export interface RetrainIteration {
  iteration: number;
  model: string;
  /** MNIST test accuracy (DNN_1: argmax over its 10 outputs; later: over the 11, fooling included). */
  testAccuracy: number;
  testImages: number;
  /** Fooling-class images DNN_i was trained with (0 for DNN_1). */
  foolingImages: number;
  trainSeconds: number;
  runs: RetrainRunResult[];
  /** Median of every digit cell's best confidence, over the iteration's runs. */
  medianConfidence: number;
  /** Median over runs of generationsTo9999 (null when most runs never got there). */
  generationsTo9999: number | null;
  /** Per generation, the median over runs of the archive median (the plot). */
  medianByGeneration: number[];
}

export interface RetrainResult {
  iterations: RetrainIteration[];
  done: boolean;
  seconds: number;
}

export interface AblatedImage {
  class: number;
  label: string;
  individualId: number;
  /** Copies of the strongest motif (0: no repetition found). */
  copies: number;
  before: number;
  /** After removing all copies but one; null without repetition. */
  ablated: number | null;
  /** After removing the same area at random; null without repetition. */
  control: number | null;
  maskedPixels: number;
  controlPixels: number;
}

export interface AblationSummary {
  champions: number;
  withRepeats: number;
  /** Of those with repeats: the share whose confidence dropped (by more than 0.01 points). */
  droppedShare: number;
  controlDroppedShare: number;
  /** Median / mean drop (before - after, in probability). */
  medianDrop: number;
  meanDrop: number;
  controlMedianDrop: number;
  controlMeanDrop: number;
  /** Share where removing the copies hurt more than the control did. */
  ablationWorseShare: number;
}

export interface AblationResult {
  runId: number;
  model: string;
  images: AblatedImage[];
  summary: AblationSummary;
  /** False when the pass was cancelled: `images` holds the champions done so far (absent in results saved before this field: done). */
  done?: boolean;
  seconds: number;
}

export interface ReproduceRow {
  runId: number;
  encoding: Encoding;
  seed: number;
  /** First generation with every class at >= 99.99%; null = not within the run. */
  firstAllAt9999: number | null;
  medianAtCheckpoint: number;
  at9999AtCheckpoint: number;
  medianAtEnd: number;
  at9999AtEnd: number;
  /** The classes still below 99.99% at the checkpoint. */
  laggingAtCheckpoint: string[];
  /** The paper's two claims for this run. */
  allByCheckpoint: boolean;
  medianAtEndAt9999: boolean;
  seconds: number;
}

export interface ReproduceResult {
  model: string;
  classes: number;
  checkpoint: number;
  generations: number;
  rows: ReproduceRow[];
  /** Runs meeting each claim, out of rows.length. */
  allByCheckpoint: number;
  medianAtEndAt9999: number;
  /** False while runs are missing (running, or stopped: the stopped run stays in the lab, resumable). */
  done: boolean;
  /** Stopped (Ctrl-C) inside a run: that run's id (kept in the lab, resumable; not one of the rows). */
  stoppedRun?: number;
  seconds: number;
}
