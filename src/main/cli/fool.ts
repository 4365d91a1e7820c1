import { Command } from 'commander';
import { registerModels } from './commands/models';
import { registerClassify } from './commands/classify';
import { registerDoctor } from './commands/doctor';
import { registerAscent } from './commands/ascent';
import { registerEvolve } from './commands/evolve';
import { registerExport } from './commands/export';
import { registerExperiments } from './commands/experiments';
import { registerLineage, registerRuns } from './commands/runs';
import { registerTrain } from './commands/train';
import { registerServe } from './commands/serve';

/**
 * `fool`: the command-line host for long headless runs. A thin layer: parse, call the core,
 * print text or --json (see ../shared/docs/cli.md for the fields scripts rely on).
 */
export function buildProgram(): Command {
  const program = new Command('fool')
    .description('Fooling Lab: evolve and study images that deep networks classify with 99.99% confidence')
    .option('--db <path>', 'lab database (default: $FOOL_DB, else the per-user data folder)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  program.exitOverride((err) => {
    // Commander's own usage errors: one line, exit code 2, JSON when asked.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
    if (process.argv.includes('--json')) {
      process.stdout.write(JSON.stringify({ error: { code: 'BAD_INPUT', message: err.message.replace(/^error: /, '') } }) + '\n');
    }
    process.exit(2);
  });
  registerModels(program);
  registerClassify(program);
  registerEvolve(program);
  registerRuns(program);
  registerLineage(program);
  registerExport(program);
  registerAscent(program);
  registerDoctor(program);
  registerExperiments(program);
  registerTrain(program);
  registerServe(program);
  return program;
}

// `fool runs show 1 | head`: the reader closed the pipe early. That is how pipes end, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`fool: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
