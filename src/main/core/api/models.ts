import type { ApiContext, Handlers } from './context';

type Methods = 'models.get' | 'models.add' | 'models.remove' | 'models.eval' | 'classify';

/** The model registry, evaluation (a job) and classifying image files. */
export function modelHandlers(ctx: ApiContext): Handlers<Methods> {
  const { lab } = ctx;
  return {
    'models.get': (p) => {
      const { info, summary } = lab.models.show(p.name);
      const m = info.manifest;
      return { name: m.name, source: info.source, file: info.path, classes: m.classes, manifest: m, labels: info.labels, graph: summary };
    },
    'models.add': async (p) => {
      const { info, notes } = await lab.models.add(p.file, { name: p.name, preset: p.preset, labels: p.labels, labelOffset: p.labelOffset, outputKind: p.outputKind, output: p.output, description: p.description });
      const m = info.manifest;
      return { model: { name: m.name, file: info.path, classes: m.classes, source: info.source }, manifest: m, notes };
    },
    'models.remove': (p) => {
      lab.models.remove(p.name);
      return { removed: p.name };
    },
    'models.eval': (p) => {
      lab.models.get(p.name); // NOT_FOUND now, not as a failed job
      const job = ctx.jobs.start('models.eval', async (jc) => {
        const r = await lab.evalMnist(p.name, ctx.classifier, (done, total) => jc.progress({ done, total }));
        return { model: p.name, dataset: p.dataset, n: r.n, accuracy: r.accuracy, seconds: r.seconds };
      });
      return { jobId: job.jobId };
    },
    classify: async (p) => ({ results: await lab.classifyFiles(p.model, p.files, p.top, ctx.classifier) }),
  };
}
