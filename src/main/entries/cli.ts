import { buildProgram } from '../cli/fool';
import { startServer } from '../server/server';

/**
 * The `fool` process: the command-line host, handed the web host for `fool serve`. Hosts never
 * import each other (eslint.layers.js); an entry point is where they are put together.
 */
// `fool runs show 1 | head`: the reader closed the pipe early. That is how pipes end, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

buildProgram({ startServer })
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`fool: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
