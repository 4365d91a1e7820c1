import { join } from 'node:path';
import { Command } from 'commander';
import { FoolError } from '../../../shared/errors';
import { openLabApi, packageRoot } from '../../core/api';
import { generateToken, isLoopback } from '../../host-common/security';
import type { StartWebHost } from '../../host-common/web-host';
import { globals, limitedIntOption, quitBySignal, run } from '../common';
import { openInBrowser } from '../open-browser';
import { classifierOptions, withClassifierOptions } from './shared-options';

/**
 * `fool serve`: the app in a browser. Runs until SIGINT/SIGTERM; then live runs stop after their
 * current generation (committed, resumable) and the database is closed. A second signal quits at once.
 */
export function registerServe(program: Command, startServer: StartWebHost): void {
  withClassifierOptions(
    program
      .command('serve')
      .description('serve the app and its API to a browser (127.0.0.1 unless --host)')
      .option('--port <n>', 'port (0: any free one)', limitedIntOption('--port', 'port'), 5178)
      .option('--host <h>', 'address to bind; any but loopback needs --token', '127.0.0.1')
      .option('--token <t>', 'secret every request must carry ("generate": make one and print it)')
      .option('--open', 'open the app in the default browser ($BROWSER when set)'),
  ).action(
    run(async (cmd) => {
      const o = cmd.opts() as { port: number; host: string; token?: string; open?: boolean };
      const { json, dbPath } = globals(cmd);
      const token = o.token === 'generate' ? generateToken() : o.token;
      if (token !== undefined && token.length < 8) throw new FoolError('BAD_INPUT', '--token must be at least 8 characters', 'Pick a longer secret, or --token generate');
      const api = openLabApi(dbPath, { classifier: classifierOptions(cmd) });
      let srv;
      try {
        srv = await startServer({ api, host: o.host, port: o.port, token, staticDir: join(packageRoot(), 'out', 'renderer') });
      } catch (e) {
        await api.close();
        throw e;
      }
      const open = token ? `${srv.url}?token=${encodeURIComponent(token)}` : srv.url;
      if (json) process.stdout.write(JSON.stringify({ url: srv.url, open, port: srv.port, host: o.host, db: dbPath, token: token ?? null }) + '\n');
      else {
        process.stdout.write(`Fooling Lab is serving ${open}\n`);
        process.stderr.write(`lab ${dbPath}${isLoopback(o.host) ? '' : '; every request needs the token'}. Ctrl-C stops (live runs stop after their generation).\n`);
      }
      if (o.open) {
        const failed = await openInBrowser(open);
        if (failed) process.stderr.write(`fool: could not open a browser (${failed}); open ${open} yourself.\n`);
      }
      await new Promise<void>((done) => {
        const stop = (sig: NodeJS.Signals) => {
          process.off('SIGINT', stop).off('SIGTERM', stop);
          process.once(sig, () => quitBySignal(sig));
          process.stderr.write(`\n${sig}: stopping after the current generation of live runs...\n`);
          void srv.close().then(done, (e: unknown) => {
            process.stderr.write(`fool: ${(e as Error).message}\n`);
            done();
          });
        };
        process.on('SIGINT', stop).on('SIGTERM', stop);
      });
    }),
  );
}
