import { buildProgram } from '../cli/fool';
import { startServer } from '../server/server';

/**
 * The `fool` process: the command-line host, handed the web host for `fool serve`. Hosts never
 * import each other (eslint.layers.js); an entry point is where they are put together.
 */
buildProgram({ startServer })
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`fool: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
