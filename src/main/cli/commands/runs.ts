import { Command } from 'commander';
import { Lab } from '../../core/lab';
import { globals, parseIntOption, run, table } from '../common';
import { formatConfidence } from '../../../shared/confidence';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the runs kept in this lab');

  runs
    .command('list')
    .description('every run with its model, encoding, progress and best results')
    .action(
      run(async (cmd) => {
        const lab = new Lab(globals(cmd).dbPath);
        try {
          const list = lab.runs.list().map((r) => lab.runs.listing(r));
          const text = list.length
            ? table([
                ['run', 'kind', 'model', 'encoding', 'seed', 'status', 'generation', 'median', '>= 99.99%'],
                ...list.map((r) => [r.runId, r.kind, r.model, r.encoding, r.seed, r.status, `${r.generation}/${r.generations ?? '-'}`, r.median === null ? '-' : formatConfidence(r.median), r.at9999 === null ? '-' : `${r.at9999}/${r.classes}`]),
              ])
            : 'No runs yet. Start one with: fool evolve --model lenet-mnist';
          return { json: { runs: list }, text };
        } finally {
          lab.close();
        }
      }),
    );

  runs
    .command('show')
    .description("a run's settings and its statistics per generation")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .action(
      run(async (cmd, runId) => {
        const lab = new Lab(globals(cmd).dbPath);
        try {
          const r = lab.runs.get(runId as number);
          const stats = lab.runs.stats(r.id);
          const rows = stats.map((s) => [s.generation, formatConfidence(s.median), formatConfidence(s.mean), formatConfidence(s.max), formatConfidence(s.min), s.at99, s.at9999, s.evaluationsPerSecond.toFixed(0)]);
          const text = [
            `Run ${r.id}: ${r.kind} ${r.encoding} on ${r.model}, seed ${r.seed}, ${r.status}, generation ${r.lastGeneration}, ${r.evaluations} evaluations in ${r.seconds.toFixed(1)} s`,
            `settings ${JSON.stringify(r.settings)}`,
            table([['gen', 'median', 'mean', 'max', 'min', '>=99%', '>=99.99%', 'img/s'], ...rows]),
          ].join('\n');
          return {
            json: { runId: r.id, kind: r.kind, model: r.model, encoding: r.encoding, seed: r.seed, status: r.status, settings: r.settings, stats },
            text,
          };
        } finally {
          lab.close();
        }
      }),
    );
}

export function registerLineage(program: Command): void {
  program
    .command('lineage')
    .description("the chain of ancestors of a class's champion, back to its random genome")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .requiredOption('--class <c>', 'class index', parseIntOption('--class', 0))
    .action(
      run(async (cmd, runId) => {
        const o = cmd.opts() as { class: number };
        const lab = new Lab(globals(cmd).dbPath);
        try {
          const r = lab.runs.get(runId as number);
          const chain = lab.runs.lineage(r.id, o.class).map((i) => {
            const own = i.top.find(([c]) => c === o.class) ?? i.won.find(([c]) => c === o.class);
            return {
              individualId: i.id,
              parentId: i.parentId,
              generation: i.generation,
              /** Its probability for the champion's class when it was born (null if not in its top 5). */
              confidence: own ? own[1] : null,
              classesHeld: i.won.map(([c]) => c),
              top: i.top.map(([c, p]) => ({ class: c, label: r.labels[c], confidence: p })),
            };
          });
          const text = [
            `Lineage of class ${o.class} (${r.labels[o.class]}) in run ${r.id}: ${chain.length} individuals`,
            table([
              ['gen', 'individual', 'conf. for class', 'classes won at birth'],
              ...chain.map((c) => [c.generation, c.individualId, c.confidence === null ? '-' : formatConfidence(c.confidence), c.classesHeld.map((k) => r.labels[k]).join(', ')]),
            ]),
          ].join('\n');
          return { json: { runId: r.id, class: o.class, label: r.labels[o.class], chain }, text };
        } finally {
          lab.close();
        }
      }),
    );
}
