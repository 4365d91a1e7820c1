import type { ParamSpec } from '../../../shared/experiment-params';
import type { Lab } from '../lab';
import type { ClassifierOptions } from '../models/classifier';
import type { JobContext } from '../jobs';

/**
 * What an experiment kind declares (one file under kinds/, one line in registry.ts). The API
 * (`experiments.start/get/report`), the report writer and the CLI loop over the registry; nothing
 * else knows a kind by name.
 */

/** One section of an experiment's HTML report. */
export interface ReportSection {
  title: string;
  html: string;
}

/** One plot of a report: an SVG, written beside as PNG. */
export interface ReportPlot {
  file: string;
  svg: string;
  caption: string;
}

/**
 * A command-line switch of the kind's command that is not a parameter (it changes what the CLI
 * prints, such as --images), declared as data: the core imports no CLI library.
 */
export interface CliFlagSpec {
  /** Commander flags, e.g. '--images'. */
  flags: string;
  description: string;
}

/** What runs an experiment: the lab, the job's signal and progress, and the host's classifier options. */
export interface ExperimentContext extends JobContext {
  lab: Lab;
  classifier?: ClassifierOptions;
}

export interface ExperimentKind<P = unknown, R = unknown> {
  /** The name in the API (`experiments.start { kind }`) and the CLI command. */
  kind: string;
  /** The name stored in the experiments table (defaults to `kind`; 'ablate' is stored as 'ablation'). */
  stored?: string;
  /** Other names its experiments are stored under (variants with their own result, such as 'genome-ablation'). */
  alsoStored?: string[];
  /** One line: what it measures (CLI help, experiments.list in the app). */
  description: string;
  /**
   * The parameters, described once (src/shared/experiment-params.ts): the API validates
   * `experiments.start` with the schema built from them and hands them to the app
   * (`experiments.kinds`), which draws the kind's form from them; the CLI makes them its options.
   * `run` gets them validated, defaults filled in. Each name is a key of P (a typo does not compile).
   */
  params: readonly (ParamSpec & { name: Extract<keyof P, string> })[];
  /**
   * Runs it: checks everything it can before the first piece of work, stores the experiment, calls
   * ctx.ids({ experimentId }) as soon as it is stored, reports progress, stops at the next safe point
   * when ctx.signal aborts (keeping what is done), and returns the stored id and result.
   */
  run(params: P, ctx: ExperimentContext): Promise<{ id: number; result: R }>;
  /** The text the CLI prints (tables). `flags` are the CLI-only switches (such as --images). */
  text(result: R, info: { id: number; params: P; flags: Record<string, unknown> }): string;
  /** The report's sections and plots, from the stored result. */
  report(result: R, lab: Lab): { sections: ReportSection[]; plots: ReportPlot[] };
  cli: {
    /** The command's --help description, when it says more than `description`. */
    description?: string;
    /** Switches beside the parameters' options that change only what the CLI prints. */
    flags?: CliFlagSpec[];
    /** Whether it takes --provider/--workers/... */
    classifierOptions?: boolean;
    /** How the CLI shows progress: a bar (format, fields from the event's detail) or one line per message. */
    progress?: { bar: string } | { line: (message: string) => string };
    /**
     * What Ctrl-C does, printed when pressed (default: the run stops after its current generation);
     * null: the work has no safe point to stop at, and Ctrl-C quits at once.
     */
    stopMessage?: string | null;
  };
}

/** Identity that keeps P and R tied together in a kind's file. */
export function defineExperiment<P, R>(k: ExperimentKind<P, R>): ExperimentKind<P, R> {
  return k;
}
