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
import { registerSweep } from './commands/sweep';
import type { StartWebHost } from '../host-common/web-host';

/** What the command line is handed by its entry point: the other hosts it can start. */
export interface CliHosts {
  /** `fool serve` starts the web host. */
  startServer: StartWebHost;
}

/**
 * `fool`: the command-line host for long headless runs. A thin layer: parse, call the core,
 * print text or --json (see ../shared/docs/cli.md for the fields scripts rely on). Started by
 * src/main/entries/cli.ts.
 */
export function buildProgram(hosts: CliHosts): Command {
  const program = new Command('fool')
    .description('Fooling Lab: evolve and study images that deep networks classify with 99.99% confidence')
    .option('--db <path>', 'lab database (default: $FOOL_DB, else the per-user data folder)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('--verbose', "show onnxruntime's own warnings too")
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
  program.hook('preAction', (_program, action) => {
    // Read by every onnxruntime session, worker threads included (they inherit the environment).
    if ((action.optsWithGlobals() as { verbose?: boolean }).verbose) process.env.FOOL_VERBOSE = '1';
  });
  registerModels(program);
  registerSweep(program);
  registerClassify(program);
  registerEvolve(program);
  registerRuns(program);
  registerLineage(program);
  registerExport(program);
  registerAscent(program);
  registerDoctor(program);
  registerExperiments(program);
  registerTrain(program);
  registerServe(program, hosts.startServer);
  return program;
}
