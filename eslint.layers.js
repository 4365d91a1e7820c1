/**
 * The layers, enforced (as VS Code's layer rules are): a folder says what it may import.
 *
 *   src/shared            imports nothing of src/main or src/renderer (both sides use it)
 *   src/renderer          imports src/shared only (it talks to the lab through the API client)
 *   src/main/core         imports no host (electron, cli, server, host-common): plain Node
 *   src/main/host-common  what the hosts share (CSP, static files, the web host's shape); no host
 *   src/main/cli, server, electron: hosts; none imports another (src/main/entries puts them together)
 *   src/main/launcher     `npm start`'s first run, in plain Node before Electron exists: it starts the
 *                         app (or `fool serve`) as a program and imports nothing of it
 *
 * Each folder gets exactly one no-restricted-imports entry (ESLint does not merge a rule's options
 * across config objects: the last one matching a file wins). Patterns are regular expressions on
 * the import specifier, which for relative imports names the folders it walks through.
 */

/** A relative import that reaches into one of `folders` (e.g. '../server/x', '../../cli'). */
const into = (folders, message) => ({ regex: `(^|/)(${folders.join('|')})(/|$)`, message });

const ELECTRON = { name: 'electron', message: 'Only the Electron host (src/main/electron) may import electron.' };
const NO_HOSTS = 'The core is plain Node: it never imports a host (hosts -> core -> nothing). Move what is shared into the core or src/shared.';

/**
 * The command line reaches the core only through its API entry (src/main/core/api, or the folder
 * src/main/core/api/). Kept apart so it can be switched on once the CLI complies.
 */
export const CLI_CORE_API_ONLY = { regex: '(^|/)core/(?!api(/|$))', message: 'The command line reaches the core only through its API (src/main/core/api): add the operation there.' };

/**
 * The layer rules as flat-config entries.
 * @param {{ cliThroughApi?: boolean }} [opts] cliThroughApi: also hold the CLI to the core's API entry.
 */
export function layers(opts = {}) {
  const rule = (files, patterns, paths = [ELECTRON]) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  });
  return [
    rule(['src/shared/**'], [into(['main', 'renderer'], 'src/shared is used by the app and the lab alike: it imports nothing from src/main or src/renderer.')]),
    rule(['src/renderer/**'], [into(['main'], 'The renderer reaches the lab only through the API client and the types in src/shared.')]),
    rule(['src/main/core/**'], [into(['cli', 'server', 'electron', 'host-common', 'entries'], NO_HOSTS)]),
    rule(['src/main/host-common/**'], [into(['cli', 'server', 'electron', 'entries'], 'host-common is shared by the hosts: it imports none of them.')]),
    rule(
      ['src/main/cli/**'],
      [into(['server', 'electron', 'entries'], 'Hosts do not import each other: share through src/main/host-common, or have src/main/entries hand it over.'), ...(opts.cliThroughApi ? [CLI_CORE_API_ONLY] : [])],
    ),
    rule(['src/main/server/**'], [into(['cli', 'electron', 'entries'], 'Hosts do not import each other: share through src/main/host-common.')]),
    rule(['src/main/electron/**'], [into(['cli', 'server', 'entries'], 'Hosts do not import each other: share through src/main/host-common.')], []),
    rule(
      ['src/main/launcher/**'],
      [into(['core', 'cli', 'server', 'electron', 'host-common', 'entries', 'shared'], 'The launcher runs before the app exists: it starts the app as a program and imports nothing of it.')],
    ),
  ];
}
