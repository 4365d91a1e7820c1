import type { ModelAdded, ModelDownloaded } from '../../../shared/api';
import { FoolError } from '../../../shared/errors';
import { catalogue, catalogueEntry } from '../models/catalogue';
import { getModel } from '../models/get';
import type { AddModelResult } from '../models/registry';
import type { ApiContext, Handlers } from './context';

type Methods = 'models.get' | 'models.add' | 'models.remove' | 'models.eval' | 'models.catalogue' | 'models.download' | 'classify';

function added(r: AddModelResult): ModelAdded {
  const m = r.info.manifest;
  return { model: { name: m.name, file: r.info.path, classes: m.classes, source: r.info.source }, manifest: m, notes: r.notes, check: r.check ?? null };
}

/** The model registry, the catalogue and its downloads, evaluation (a job) and classifying image files. */
export function modelHandlers(ctx: ApiContext): Handlers<Methods> {
  const { lab } = ctx;
  return {
    'models.get': (p) => {
      const { info, summary, missing } = lab.models.show(p.name);
      const m = info.manifest;
      return {
        name: m.name,
        source: info.source,
        file: info.path,
        classes: m.classes,
        manifest: m,
        labels: info.labels,
        graph: summary ?? null,
        ...(m.description ? { description: m.description } : {}),
        check: info.check ?? null,
        missing: missing ?? null,
        evaluations: lab.models.evaluations(m.name),
      };
    },
    'models.add': async (p) =>
      added(
        await lab.models.add(p.file, {
          name: p.name,
          preset: p.preset,
          manifest: p.manifest,
          labels: p.labels,
          labelOffset: p.labelOffset,
          outputKind: p.outputKind,
          output: p.output,
          description: p.description,
          overrides: p.overrides,
          check: p.check,
          classifier: ctx.classifier,
        }),
      ),
    'models.remove': (p) => {
      lab.models.remove(p.name);
      return { removed: p.name, runs: lab.runs.list().filter((r) => r.model === p.name).map((r) => r.id) };
    },
    'models.eval': (p) => {
      lab.models.get(p.name); // NOT_FOUND now, not as a failed job
      const job = ctx.jobs.start('models.eval', async (jc) => {
        const r = await lab.evalMnist(p.name, ctx.classifier, (done, total) => jc.progress({ done, total }));
        // Kept with the model: the Models page and `fool models list/show` show it afterwards.
        const saved = lab.models.saveEvaluation(p.name, { dataset: p.dataset, n: r.n, accuracy: r.accuracy, seconds: r.seconds });
        return { model: p.name, dataset: p.dataset, n: r.n, accuracy: r.accuracy, seconds: r.seconds, evaluatedAt: saved.evaluatedAt };
      }, { subject: p.name });
      return { jobId: job.jobId };
    },
    'models.catalogue': () => catalogue(),
    'models.download': (p) => {
      // Bad names are the caller's error now, not a failed job.
      const entry = catalogueEntry(p.name);
      const as = p.as ?? entry.name;
      if (lab.models.list().some((m) => m.name === as)) {
        throw new FoolError('BAD_INPUT', `a model named "${as}" already exists in this lab`, `It is there already; or get it under another name, or remove "${as}" first`);
      }
      const job = ctx.jobs.start('models.download', async (jc): Promise<ModelDownloaded> => {
        jc.progress({ done: 0, total: entry.bytes, message: `downloading ${entry.name}` });
        // One progress event every 200 ms at most: a download reports every chunk.
        let last = 0;
        const r = await getModel(lab.models, p.name, {
          name: p.as,
          check: p.check,
          classifier: ctx.classifier,
          signal: jc.signal,
          onProgress: (done, total) => {
            const now = Date.now();
            if (done < total && now - last < 200) return;
            last = now;
            jc.progress({ done, total, message: done < total ? `downloading ${entry.name}` : `checking and registering ${entry.name}` });
          },
        });
        return { ...added(r), entry: r.entry, resumedFrom: r.resumedFrom };
      }, { subject: entry.name });
      return { jobId: job.jobId };
    },
    classify: async (p) => ({ results: await lab.classifyFiles(p.model, p.files, p.top, ctx.classifier) }),
  };
}
