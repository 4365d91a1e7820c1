import { z } from 'zod';
import { ENCODINGS, type Champion, type GenerationStats } from './engine';
import type { ErrorPayload } from './errors';
import { absolutePath, limitedInt } from './limits';
import type { ParamSpec } from './experiment-params';
import { GenomeEditsSchema, type GenomeEdit, type NodeActivation, type RepetitionReport } from './genome';
import { ManifestOverridesSchema, PRESET_NAMES, type CatalogueEntry, type Manifest, type ModelEvaluation, type ModelSummary, type SelfCheck } from './manifest';
import { describeIssue } from './request-issue';

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
const experimentId = z.number().int().positive();
const jobId = z.number().int().positive();
const name = z.string().min(1);
const path = z.string().min(1);

/**
 * A sweep (`fool sweep`): models x encodings x seeds x settings variants, one evolution run a task,
 * each task in its own lab file under `dir` (shared storage on a cluster), run here N at a time
 * (backend local) or as a Slurm job array (backend slurm); finished tasks are imported into the lab.
 */
export const SweepSpecSchema = z
  .object({
    models: z.array(z.string().min(1)).min(1),
    encodings: z.array(z.enum(ENCODINGS)).min(1),
    seeds: z.array(z.number().int().nonnegative()).min(1),
    generations: z.number().int().positive().max(1_000_000),
    batch: z.number().int().positive().max(100_000).optional(),
    /** Settings variants (evolve's options by their long names, e.g. {"crossover": "sbx"}); one task per variant. */
    settings: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).min(1).default([{}]),
    /** Folder of the task labs, the sbatch script and the logs (on a cluster: storage every node sees). */
    dir: z.string().min(1),
    backend: z.enum(['local', 'slurm']).default('local'),
    /** local: tasks run at once. */
    parallel: z.number().int().positive().max(256).default(2),
    /** Execution provider of each task (cuda on GPU nodes). */
    provider: z.enum(['auto', 'cpu', 'cuda']).default('cpu'),
    /** Classifier workers of each task (Slurm: --cpus-per-task). */
    workers: z.number().int().positive().max(256).default(1),
    slurm: z
      .object({
        partition: z.string().min(1).optional(),
        /** --time, e.g. 02:00:00 */
        time: z.string().min(1).optional(),
        /** --gres, e.g. gpu:1 */
        gres: z.string().min(1).optional(),
        mem: z.string().min(1).optional(),
        /** At most this many tasks at once (--array=...%N). */
        maxRunning: z.number().int().positive().optional(),
        /** Shell lines run before each task (module load ..., source venv, ...). */
        setup: z.array(z.string()).default([]),
        /** More #SBATCH options, e.g. "--account=lab". */
        options: z.array(z.string().regex(/^--?[A-Za-z]/, 'an sbatch option, e.g. --account=lab')).default([]),
        /** The node binary on the compute nodes (default: this one, by absolute path). */
        node: z.string().min(1).optional(),
      })
      .strict()
      .default({ setup: [], options: [] }),
  })
  .strict();
export type SweepSpec = z.output<typeof SweepSpecSchema>;

const sweepId = z.number().int().positive();

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
      /** Fitness = softmax averaged over 10 crops (the original's Caffe oversample). */
      tenCrop: z.boolean().optional(),
    })
    .strict(),
  'runs.stop': z.object({ runId }).strict(),
  /** takeOver: resume even when another process seems to run it (the command line: its user knows it died). */
  'runs.resume': z.object({ runId, generations: limitedInt('generations').optional(), takeOver: z.boolean().optional() }).strict(),
  'runs.champions': z.object({ runId }).strict(),
  'individual.get': z.object({ runId, individualId: id }).strict(),
  /** Top-5 of an individual's image under any registered model (a first look at transferability). */
  'individual.classify': z.object({ runId, individualId: id, model: z.string().min(1) }).strict(),
  'lineage.get': z.object({ runId, class: id }).strict(),
  /** The run's phylogeny: all champions' ancestries merged back to generation 0 (and WordNet tables for ImageNet runs). */
  'runs.tree': z.object({ runId }).strict(),
  /** A gradient-ascent run, per class: the confidence after each step, steps to 99/99.9/99.99%, the final image. */
  'runs.ascent': z.object({ runId }).strict(),
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
  /**
   * The paper's measure on one detected motif: keep one copy (all others filled), and the same area
   * filled at random places (seeded draws): confidence, and the images the network is shown.
   */
  'ablation.copies': z
    .object({
      runId,
      individualId: id,
      class: id,
      motif: id,
      keep: id.default(0),
      fill: z.enum(['mean', 'grey', 'black']).default('mean'),
      draws: z.number().int().min(1).max(64).default(8),
      seed: z.number().int().nonnegative().default(1),
    })
    .strict(),
  /** Every hidden and output node's activation over the image (after the edits), and whether it repeats. */
  'genome.nodes': z.object({ runId, individualId: id, edits: GenomeEditsSchema.default([]) }).strict(),
  /** Re-render a CPPN individual with nodes or connections switched off (or weights changed) and re-classify it. */
  'genome.apply': z.object({ runId, individualId: id, class: id, edits: GenomeEditsSchema, nodes: z.boolean().default(true) }).strict(),
  /** Which nodes make the repetition, their periods, and the edits that remove it. */
  'genome.repetition': z.object({ runId, individualId: id }).strict(),
  'genome.save': z.object({ runId, individualId: id, class: id, edits: GenomeEditsSchema.min(1), note: z.string().max(2000).optional() }).strict(),
  'genome.list': z.object({ runId, individualId: id }).strict(),
  // classes: checked against the run by the core (a class out of range is named in the error).
  'export.run': z.object({ runId, outDir: absolutePath, classes: z.array(z.number()).optional() }).strict(),
  /** The same export as a job: a progress event per file written, cancellable between images; the result (ExportResult) in job.end. */
  'export.start': z.object({ runId, outDir: absolutePath, classes: z.array(z.number()).optional() }).strict(),

  // ---- runs (beyond the app's first methods) ----
  /** A run's settings and statistics per generation (`fool runs show`). */
  'runs.report': z.object({ runId }).strict(),
  /** The run's report (the app's report page) written as a folder: index.html, plots as PNG and SVG, thumbnails, report.json. */
  'runs.writeReport': z.object({ runId, outDir: path }).strict(),
  /** Deletes a run with its individuals (not while it is running here). */
  'runs.delete': z.object({ runId }).strict(),
  /** A job: copies runs (all, or these source ids) with their models and experiments from another lab file. */
  'runs.import': z.object({ file: path, runs: z.array(runId).min(1).optional() }).strict(),
  /** Writes a new lab file holding one run (and its models), to share or import elsewhere. */
  'runs.exportLab': z.object({ runId, out: path }).strict(),

  // ---- sweeps (many runs, here or on Slurm, imported as they finish) ----
  'sweeps.list': z.object({}).strict(),
  'sweeps.get': z.object({ sweepId }).strict(),
  /** A job: plans the tasks, submits them, follows them and imports each as it finishes. */
  'sweeps.start': z.object({ spec: SweepSpecSchema }).strict(),
  /** A job: follows a sweep again; resubmits only its failed or missing tasks. */
  'sweeps.resume': z.object({ sweepId }).strict(),

  // ---- models ----
  'models.get': z.object({ name }).strict(),
  /**
   * Registers a model: a preset, a manifest file (`manifest`, or FILE.json beside the model) and
   * `overrides` (one field per `fool models add` flag), checked against the graph; then the
   * preprocessing self-check (`check: false` skips it). name: else the manifest file's.
   */
  'models.add': z
    .object({
      file: path,
      name: name.optional(),
      preset: z.enum(PRESET_NAMES).optional(),
      manifest: path.optional(),
      labels: path.optional(),
      labelOffset: z.number().int().nonnegative().optional(),
      outputKind: z.enum(['probabilities', 'logits']).optional(),
      output: z.string().min(1).optional(),
      description: z.string().max(2000).optional(),
      overrides: ManifestOverridesSchema.optional(),
      check: z.boolean().default(true),
    })
    .strict(),
  /** The catalogue of public classifiers `models.download` fetches. */
  'models.catalogue': z.object({}).strict(),
  /** A job: download a catalogue model (resumable, SHA-256 checked) and register it with the self-check. as: its name in the lab. */
  'models.download': z.object({ name, as: name.optional(), check: z.boolean().default(true) }).strict(),
  'models.remove': z.object({ name }).strict(),
  /** A job: accuracy on a dataset. */
  'models.eval': z.object({ name, dataset: z.enum(['mnist-test']).default('mnist-test') }).strict(),
  /** Image files (PNG, JPEG) on the lab's machine, classified by a model. */
  classify: z.object({ model: name, files: z.array(path).min(1), top: z.number().int().positive().max(1000).default(5) }).strict(),

  // ---- long work (jobs) ----
  /** A job: gradient ascent on the input. classes: all, 0-9, 3,7,12 or random:N. */
  'ascent.start': z
    .object({
      model: name,
      classes: z.string().min(1).default('0-9'),
      seed: z.number().int().nonnegative().default(1),
      steps: z.number().int().positive().default(300),
      objective: z.enum(['log-probability', 'probability']).default('log-probability'),
      stepRule: z.enum(['sign', 'released']).default('sign'),
      // Ranges are checked by the core, with messages that name the setting.
      stepSize: z.number().default(2),
      decay: z.number().default(0.01),
      blur: z.number().default(0),
      target: z.number().default(0.9999),
      workers: limitedInt('workers').optional(),
    })
    .strict(),
  /** A job: train Caffe's MNIST LeNet. extraClass: a folder of 28x28 images, or run ids "3,4" of this lab. */
  'train.start': z
    .object({
      out: absolutePath,
      seed: z.number().int().nonnegative().max(0x7fffffff).default(1),
      epochs: z.number().int().positive().default(10),
      extraClass: z.string().min(1).optional(),
      optimizer: z.enum(['sgd', 'adam']).default('sgd'),
      batch: z.number().int().positive().default(64),
      /** Training worker threads, each with its share of every batch; part of what decides the weights. */
      workers: limitedInt('workers').default(2),
      threads: z.number().int().positive().default(1),
      resume: z.boolean().optional(),
      /** The first n MNIST training / test images only (0 = all): quick checks. */
      trainLimit: z.number().int().min(0).max(60_000).default(0),
      testLimit: z.number().int().min(0).max(10_000).default(0),
    })
    .strict(),
  /** The champions' fooling images as an ImageFolder (DIR/<className>/*.png) plus DIR/<className>.csv. */
  'dataset.export': z.object({ runs: z.array(runId).min(1), outDir: absolutePath, className: z.string().min(1).default('fooling') }).strict(),

  // ---- experiments (kinds: experiments.kinds; parameters validated by the kind's schema) ----
  'experiments.kinds': z.object({}).strict(),
  'experiments.list': z.object({}).strict(),
  'experiments.get': z.object({ experimentId }).strict(),
  /** A job: runs an experiment of a registered kind; returns once it is stored (its id) or failed its checks. */
  'experiments.start': z.object({ kind: name, params: z.record(z.string(), z.unknown()).default({}) }).strict(),
  'experiments.report': z.object({ experimentId, outDir: absolutePath }).strict(),

  // ---- jobs ----
  'jobs.list': z.object({}).strict(),
  'jobs.get': z.object({ jobId }).strict(),
  /** Stops a job at its next safe point (evolution: after the current generation, committed). */
  'jobs.cancel': z.object({ jobId }).strict(),

  /** What this machine offers: runtime, execution providers, threads, GPU, the lab's database. */
  'doctor.info': z.object({}).strict(),
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
  /**
   * The classes the run aims at, what `at9999` counts out of: all of the model's for an evolution
   * (MAP-Elites has a cell per class), the ones it ascended for a gradient ascent.
   */
  aimed: number;
  median: number | null;
  at9999: number | null;
  /** When the run was created (its start) and last written (its end, once it is not running). */
  createdAt: string;
  updatedAt: string;
  /** Compute time over all its sessions, and images classified. */
  seconds: number;
  evaluations: number;
  /** Where its images were last classified ('cpu', 'cuda'); null for runs from before this was kept. */
  provider: string | null;
}

export interface RunInfo extends RunListing {
  /** True while this host is running it (a run started from the command line shows 'running' but false). */
  live: boolean;
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
  /** The part of the image the run's model sees (its centre crop), in image pixels; null when it sees all of it. */
  crop: Box | null;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LineageStep {
  individualId: number;
  parentId: number | null;
  generation: number;
  confidence: number | null;
  classesHeld: number[];
  labelsHeld: string[];
  /** Its top-5 when it was born. */
  top: Prediction[];
}

export interface Lineage {
  runId: number;
  class: number;
  label: string;
  chain: LineageStep[];
  /** Other champions sharing an ancestor with this one: the family (the paper saw one lineage win three lizard classes). */
  family: { class: number; label: string; individualId: number; commonAncestorId: number; commonAncestorGeneration: number }[];
}

/**
 * One node of a run's phylogeny. Only the nodes that matter are kept: the random genomes a lineage
 * starts from (generation 0), the ancestors where lineages split, and the champions; `parentId` is
 * the nearest kept ancestor and `steps` how many generations of single descent lie between.
 */
export interface TreeNode {
  individualId: number;
  parentId: number | null;
  generation: number;
  /** The classes this individual holds now (empty for a split point). */
  classes: number[];
  /** Individuals on the path from the kept parent to this node (1 = direct child). */
  steps: number;
}

/** Pairs of champions binned by how recent their last common ancestor is, against WordNet distance. */
export interface WordnetAgeRow {
  /** e.g. "last common ancestor in the last 10% of the run". */
  bucket: string;
  pairs: number;
  meanDistance: number | null;
  medianDistance: number | null;
}

export interface WordnetPair {
  a: number;
  b: number;
  labelA: string;
  labelB: string;
  commonAncestorId: number;
  commonAncestorGeneration: number;
  distance: number | null;
}

export interface WordnetGroupRow {
  group: string;
  classes: number;
  median: number;
  min: number;
  /** Share of its classes at >= 99.99%. */
  at9999: number;
}

export interface RunTree {
  runId: number;
  classes: number;
  lastGeneration: number;
  nodes: TreeNode[];
  champions: Champion[];
  /** Per class, its WordNet group (ImageNet runs), else null. */
  groups: string[] | null;
  /** ImageNet runs: related classes sharing images, and the hardest groups to fool; null otherwise. */
  wordnet: { byAge: WordnetAgeRow[]; closest: WordnetPair[]; perGroup: WordnetGroupRow[]; totalPairs: number } | null;
  /** Why there are no WordNet tables, when there are none. */
  wordnetNote: string | null;
}

export interface AscentClass {
  class: number;
  label: string;
  /** The final image (an individual of the run). */
  individualId: number;
  confidence: number;
  steps: number;
  /** The class's probability before each step, and after the last. */
  trace: number[];
  stepsTo: Record<'0.99' | '0.999' | '0.9999', number | null>;
}

export interface AscentView {
  runId: number;
  settings: Record<string, unknown>;
  /** The image every class starts from (the mean image, before the seeded noise), PNG data URL. */
  startImage: string | null;
  classes: AscentClass[];
}

export interface Motif {
  /** Bounding boxes of the copies of one repeated pattern (pixels); a ring's copy is the annulus inside its box. */
  copies: (Box & { ring?: { cx: number; cy: number; inner: number; outer: number } })[];
  score: number;
  /** Discrete copies found by template matching, or a periodic texture found in the spectrum. */
  kind: 'copies' | 'stripes' | 'grid' | 'rings';
  /** A texture's period (pixels). */
  period?: number;
}

export interface AblationResult {
  confidenceBefore: number;
  confidenceAfter: number;
  top: Prediction[];
  maskedPixels: number;
  /** The filled image the network is shown (PNG data URL); saved ablations omit it. */
  image?: string;
}

export interface CopiesAblation {
  class: number;
  confidenceBefore: number;
  /** All copies but `kept` filled. */
  keepOne: { kept: number; confidence: number; top: Prediction[]; maskedPixels: number; image: string };
  /** The same area at random places: one confidence per draw, their mean and standard deviation, the first draw's image. */
  control: { confidences: number[]; mean: number; std: number; image: string; seed: number };
}

export interface GenomeApplyResult {
  confidenceBefore: number;
  confidenceAfter: number;
  top: Prediction[];
  /** The re-rendered image (PNG data URL). */
  image: string;
  /** The nodes' activations after the edits (empty when not asked for). */
  nodes: NodeActivation[];
}

export interface SavedGenomeAblation {
  ablationId: number;
  class: number;
  edits: GenomeEdit[];
  confidenceBefore: number;
  confidenceAfter: number;
  top: Prediction[];
  note: string | null;
  createdAt: string;
  /** The re-rendered image, 64 px (PNG data URL). */
  thumb: string;
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
  'runs.get': { run: RunInfo; settings: Record<string, unknown>; stats: GenerationStats[]; labels: string[] };
  'runs.start': { runId: number; jobId: number };
  'runs.stop': { runId: number };
  'runs.resume': { runId: number; jobId: number };
  'runs.champions': Champion[];
  'individual.get': IndividualDetail;
  'individual.classify': { model: string; top: Prediction[] };
  'lineage.get': Lineage;
  'runs.tree': RunTree;
  'runs.ascent': AscentView;
  'ablation.detect': Motif[];
  'ablation.apply': AblationResult;
  'ablation.save': SavedAblation;
  'ablation.list': SavedAblation[];
  'ablation.copies': CopiesAblation;
  'genome.nodes': NodeActivation[];
  'genome.apply': GenomeApplyResult;
  'genome.repetition': RepetitionReport;
  'genome.save': SavedGenomeAblation;
  'genome.list': SavedGenomeAblation[];
  'export.run': ExportResult;
  'export.start': JobStarted;
  'runs.report': RunReport;
  'runs.writeReport': { runId: number; dir: string; files: string[]; classes: number; below9999: { class: number; label: string; confidence: number | null }[] };
  'runs.delete': { runId: number };
  'runs.import': JobStarted;
  'runs.exportLab': { file: string; runId: number; models: string[] };
  'sweeps.list': SweepListing[];
  'sweeps.get': SweepDetail;
  'sweeps.start': JobStarted & { sweepId: number };
  'sweeps.resume': JobStarted & { sweepId: number; resubmitted: number[] };
  'models.get': ModelDetail;
  'models.add': ModelAdded;
  'models.catalogue': CatalogueEntry[];
  /** Its job's result: ModelAdded & { entry, resumedFrom }. */
  'models.download': JobStarted;
  /** `runs`: the runs made with it (kept; they can no longer be resumed, transferred or ablated). */
  'models.remove': { removed: string; runs: number[] };
  'models.eval': JobStarted;
  classify: { results: { file: string; top: Prediction[] }[] };
  'ascent.start': JobStarted;
  'train.start': JobStarted;
  'dataset.export': { dir: string; csv: string; images: number };
  /** Every registered kind, with its parameters described (the app draws the kind's start form from them). */
  'experiments.kinds': { kind: string; stored: string; description: string; params: readonly ParamSpec[] }[];
  'experiments.list': ExperimentListing[];
  'experiments.get': ExperimentListing & { result: unknown };
  'experiments.start': JobStarted & { experimentId: number };
  'experiments.report': { experimentId: number; kind: string; dir: string; files: string[] };
  'jobs.list': JobInfo[];
  'jobs.get': JobInfo;
  'jobs.cancel': { jobId: number; cancelled: boolean };
  'doctor.info': DoctorInfo;
}

/** What `runs.import` did (its job's result; `fool runs import --json`). */
export interface ImportResult {
  /** The source lab file (absolute) and the host that made it. */
  source: string;
  sourceHost: string;
  /** Runs copied now: source id -> new id here. */
  imported: { sourceRunId: number; runId: number }[];
  /** Runs already here (imported before, or born here): nothing added. */
  skipped: { sourceRunId: number; runId: number }[];
  experiments: { sourceExperimentId: number; experimentId: number; kind: string }[];
  /** The models the copied runs use: `as` is this lab's name for it; copied false = same file (SHA-256) already here. */
  models: { name: string; as: string; hash: string; copied: boolean }[];
}

/** A sweep task's state: planned, submitted (queued or running), finished (its lab holds a finished run), imported, failed. */
export type SweepTaskState = 'planned' | 'submitted' | 'running' | 'finished' | 'imported' | 'failed';

export interface SweepTask {
  task: number;
  model: string;
  encoding: string;
  seed: number;
  settings: Record<string, string | number | boolean>;
  state: SweepTaskState;
  /** Its lab file. */
  lab: string;
  /** Slurm: "JOBID_TASK"; local: null. */
  slurmJob: string | null;
  /** The last generation its lab has committed (null before the first). */
  generation: number | null;
  /** The run in this lab once imported. */
  runId: number | null;
  /** Why it failed (Slurm's state and exit code, or the last lines of its log). */
  message: string | null;
}

export interface SweepListing {
  sweepId: number;
  backend: 'local' | 'slurm';
  dir: string;
  createdAt: string;
  tasks: number;
  imported: number;
  failed: number;
}

export interface SweepDetail extends SweepListing {
  spec: SweepSpec;
  generations: number;
  taskList: SweepTask[];
  /** The merged archive: per class, the best champion over the sweep's imported runs. */
  archive: { class: number; label: string; confidence: number; runId: number; individualId: number }[];
  /** Slurm: the sbatch script last submitted. */
  script: string | null;
}

/** Where an imported run came from (runs.report). */
export interface RunOrigin {
  /** The lab it was born in (its id) and its id there. */
  lab: string;
  runId: number;
  /** The file and host it was imported from, and when. */
  sourcePath: string;
  sourceHost: string;
  importedAt: string;
}

/** What every job start returns; progress and the end arrive as job events with this id. */
/** What an export wrote. `done` false: cancelled, the folder holds the champions written so far (and an index and manifest for them). */
export interface ExportResult {
  dir: string;
  files: string[];
  champions: number;
  done: boolean;
}

export interface JobStarted {
  jobId: number;
  runId?: number;
  experimentId?: number;
}

export type JobStatus = 'running' | 'finished' | 'cancelled' | 'failed';

export interface JobInfo {
  jobId: number;
  /** 'evolve', 'ascent', 'train', 'models.eval', or an experiment kind ('transfer', ...). */
  kind: string;
  status: JobStatus;
  done: number;
  total: number;
  message: string;
  createdAt: string;
  endedAt?: string;
  runId?: number;
  experimentId?: number;
  /** What the job works on when not a run or an experiment: the catalogue entry a download gets, the model an evaluation scores. */
  subject?: string;
  /** When finished (or cancelled): what the work returned. */
  result?: unknown;
  error?: ErrorPayload;
}

export interface JobProgress {
  done?: number;
  total?: number;
  message?: string;
  /** Fields particular to the job's kind (a CLI bar's fields, say). */
  detail?: Record<string, unknown>;
}

export type JobEvent =
  | { type: 'job.progress'; jobId: number; kind: string; done: number; total: number; message: string; detail?: Record<string, unknown> }
  | { type: 'job.end'; jobId: number; kind: string; status: Exclude<JobStatus, 'running'>; runId?: number; experimentId?: number; result?: unknown; error?: ErrorPayload };

export interface ExperimentListing {
  id: number;
  /** As stored ('ablation' for the ablate kind). */
  kind: string;
  createdAt: string;
  /** Its result is stored and complete. */
  finished: boolean;
  /** Its result is stored but cut short (cancelled, Ctrl-C): it holds what was done (the result's done: false). */
  cancelled: boolean;
  params: unknown;
}

export interface RunReport {
  runId: number;
  kind: RunListing['kind'];
  model: string;
  encoding: string;
  seed: number;
  status: RunListing['status'];
  settings: Record<string, unknown>;
  stats: GenerationStats[];
  lastGeneration: number;
  evaluations: number;
  seconds: number;
  /** Imported runs: where it was born and where it came from; null for a run born in this lab. */
  origin: RunOrigin | null;
}

export interface ModelDetail {
  name: string;
  source: string;
  file: string;
  classes: number;
  manifest: Manifest;
  /** Empty when the files are missing. */
  labels: string[];
  /** Null when the files are missing. */
  graph: { opset: number; parameters: number; ops: Record<string, number>; inputs: { name: string; dims: (number | string)[] }[]; outputs: { name: string; dims: (number | string)[]; producer: string }[] } | null;
  description?: string;
  /** The preprocessing self-check of its registration (null: skipped, shipped, or added before it existed). */
  check: SelfCheck | null;
  /** What of its files is gone (a lab copied without its .models folder), or null. */
  missing: string | null;
  /** Its stored evaluations (models.eval), latest first; empty when never evaluated. */
  evaluations: ModelEvaluation[];
}

/** What registering a model returns (models.add, and the models.download job with entry and resumedFrom). */
export interface ModelAdded {
  model: { name: string; file: string; classes: number; source: string };
  manifest: Manifest;
  /** What was decided without being asked (labels, label offset, the manifest file read) and what loading changed. */
  notes: string[];
  /** The self-check (null: skipped, or none fits the model); check.message is the line to show. */
  check: SelfCheck | null;
}

export interface ModelDownloaded extends ModelAdded {
  entry: CatalogueEntry;
  /** Bytes already on disk from an interrupted earlier download. */
  resumedFrom: number;
}

export interface DoctorInfo {
  node: string;
  onnxruntime: string;
  providers: { name: string; installed: boolean }[];
  cudaInstalled: boolean;
  gpu: { present: boolean; description: string };
  provider: string;
  reason: string;
  cpu: { model: string; cores: number; memoryGiB: number };
  workers: number;
  threadsPerWorker: number;
  db: string;
}

export type ApiResponse<M extends ApiMethod> = { ok: true; result: ApiResults[M] } | { ok: false; error: ErrorPayload };

export type ApiEvent =
  /** evaluations, seconds: the run's totals after this generation (its row's, earlier sessions included); provider: this session's. */
  | { type: 'run.progress'; runId: number; generation: number; generations: number; stats: GenerationStats; evaluationsPerSecond: number; etaSeconds: number; evaluations: number; seconds: number; provider: string }
  | { type: 'run.status'; runId: number; status: RunInfo['status']; message?: string }
  | JobEvent;

/** Validates a request; a FoolError-shaped payload on failure (hosts return it without calling the core). */
export function parseRequest<M extends ApiMethod>(method: string, params: unknown): { ok: true; method: M; params: z.output<(typeof ApiRequests)[M]> } | { ok: false; error: ErrorPayload } {
  if (!Object.prototype.hasOwnProperty.call(ApiRequests, method)) {
    return { ok: false, error: { code: 'BAD_INPUT', message: `unknown API method "${method}"` } };
  }
  const r = ApiRequests[method as M].safeParse(params ?? {});
  if (!r.success) {
    return { ok: false, error: { code: 'BAD_INPUT', message: `invalid request to ${method}: ${describeIssue(r.error.issues[0], params ?? {})}` } };
  }
  return { ok: true, method: method as M, params: r.data as z.output<(typeof ApiRequests)[M]> };
}

export type { Manifest, Champion, GenerationStats };
