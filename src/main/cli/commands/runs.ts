import { Command } from 'commander';
import { parseIntOption, pct, run, table, withLab } from '../common';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the runs kept in this lab');

  runs
    .command('list')
    .description('every run with its model, encoding, progress and best results')
    .action(
      run(async (cmd) =>
        withLab(cmd, async (lab) => {
          // `live` says whether this process runs it: never, for a command that only lists.
          const list = (await lab.call('runs.list', {})).map(({ live: _live, ...r }) => r);
          const text = list.length
            ? table([
                ['run', 'kind', 'model', 'encoding', 'seed', 'status', 'generation', 'median', '>= 99.99%'],
                ...list.map((r) => [r.runId, r.kind, r.model, r.encoding, r.seed, r.status, `${r.generation}/${r.generations ?? '-'}`, r.median === null ? '-' : pct(r.median), r.at9999 === null ? '-' : `${r.at9999}/${r.classes}`]),
              ])
            : 'No runs yet. Start one with: fool evolve --model lenet-mnist';
          return { json: { runs: list }, text };
        }),
      ),
    );

  runs
    .command('show')
    .description("a run's settings and its statistics per generation")
    .argument('<run>', 'run id', parseIntOption('run id'))
    .action(
      run(async (cmd, runId) =>
        withLab(cmd, async (lab) => {
          const r = await lab.call('runs.report', { runId: runId as number });
          const rows = r.stats.map((s) => [s.generation, pct(s.median), pct(s.mean), pct(s.max), pct(s.min), s.at99, s.at9999, s.evaluationsPerSecond.toFixed(0)]);
          const text = [
            `Run ${r.runId}: ${r.kind} ${r.encoding} on ${r.model}, seed ${r.seed}, ${r.status}, generation ${r.lastGeneration}, ${r.evaluations} evaluations in ${r.seconds.toFixed(1)} s`,
            `settings ${JSON.stringify(r.settings)}`,
            table([['gen', 'median', 'mean', 'max', 'min', '>=99%', '>=99.99%', 'img/s'], ...rows]),
          ].join('\n');
          return {
            json: { runId: r.runId, kind: r.kind, model: r.model, encoding: r.encoding, seed: r.seed, status: r.status, settings: r.settings, stats: r.stats },
            text,
          };
        }),
      ),
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
        return withLab(cmd, async (lab) => {
          const l = await lab.call('lineage.get', { runId: runId as number, class: o.class });
          // confidence: its probability for the champion's class when it was born (null if not in its top 5).
          const chain = l.chain.map((c) => ({ individualId: c.individualId, parentId: c.parentId, generation: c.generation, confidence: c.confidence, classesHeld: c.classesHeld, top: c.top }));
          const text = [
            `Lineage of class ${o.class} (${l.label}) in run ${l.runId}: ${chain.length} individuals`,
            table([['gen', 'individual', 'conf. for class', 'classes won at birth'], ...l.chain.map((c) => [c.generation, c.individualId, c.confidence === null ? '-' : pct(c.confidence), c.labelsHeld.join(', ')])]),
          ].join('\n');
          return { json: { runId: l.runId, class: o.class, label: l.label, chain }, text };
        });
      }),
    );
}
