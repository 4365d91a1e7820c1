import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript config modules (no declarations)
import projectConfig from '../eslint.config.js';
// @ts-expect-error: plain JavaScript config modules (no declarations)
import { layers } from '../eslint.layers.js';

/**
 * The layer rules (eslint.layers.js) on in-memory code placed at a path in each folder: each rule
 * fires on an import across its layer and stays quiet on an allowed one. The project's own config
 * is used as is (the same `npx eslint .` runs in `npm test`).
 */

const ROOT = resolve(__dirname, '..');
const project = new ESLint({ cwd: ROOT });
// The CLI-through-the-API rule, switched on (it is off until the CLI goes through the API).
const withCliRule = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [...(projectConfig as unknown[]), ...(layers({ cliThroughApi: true }) as unknown[])] as ESLint.Options['overrideConfig'],
});

/** The layer violations ESLint reports for `code` as if it were the file `path`. */
async function violations(path: string, code: string, eslint = project): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: resolve(ROOT, path) });
  const fatal = res.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`${path} did not parse: ${fatal[0].message}`);
  return res.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const use = (spec: string) => `import { x } from '${spec}';\nexport const y = x;\n`;

interface Case {
  layer: string;
  file: string;
  bad: string[];
  good: string[];
}

const CASES: Case[] = [
  {
    layer: 'src/shared imports nothing from src/main or src/renderer',
    file: 'src/shared/example.ts',
    bad: ['../main/core/api', '../renderer/src/lib/api', 'electron'],
    good: ['./errors', 'zod'],
  },
  {
    layer: 'the renderer imports src/shared only',
    file: 'src/renderer/src/lib/example.ts',
    bad: ['../../../main/core/lab', '../../../main/server/server', 'electron'],
    good: ['../../../shared/api', './format', 'svelte'],
  },
  {
    layer: 'the core imports no host',
    file: 'src/main/core/models/example.ts',
    bad: ['electron', '../../electron/index', '../../cli/common', '../../server/server', '../../host-common/security'],
    good: ['../../../shared/errors', './image', '../store/db', 'sharp'],
  },
  {
    layer: 'host-common imports no host',
    file: 'src/main/host-common/example.ts',
    bad: ['../server/server', '../cli/fool', '../electron/index', 'electron'],
    good: ['../core/api', '../../shared/api', 'node:http'],
  },
  {
    layer: 'the CLI imports no other host',
    file: 'src/main/cli/commands/example.ts',
    bad: ['../../server/server', '../../electron/index', 'electron'],
    good: ['../../host-common/security', '../common', '../../../shared/errors', 'commander'],
  },
  {
    layer: 'the web server imports no other host',
    file: 'src/main/server/example.ts',
    bad: ['../cli/fool', '../electron/index', 'electron'],
    good: ['../host-common/static', '../core/api', '../../shared/api'],
  },
  {
    layer: 'the Electron host imports no other host',
    file: 'src/main/electron/example.ts',
    bad: ['../server/server', '../server/security', '../cli/common'],
    good: ['electron', '../host-common/security', '../core/api'],
  },
  {
    layer: 'the launcher (npm start) imports nothing of the app',
    file: 'src/main/launcher/example.ts',
    bad: ['../core/paths', '../cli/common', '../electron/index', '../../shared/errors', 'electron'],
    good: ['./child', 'node:child_process'],
  },
];

describe('layers enforced by lint (eslint.layers.js)', () => {
  for (const c of CASES) {
    it(`${c.layer}: fires on ${c.bad.join(', ')}; passes ${c.good.join(', ')}`, async () => {
      for (const spec of c.bad) expect((await violations(c.file, use(spec))).length, `${spec} from ${c.file}`).toBeGreaterThan(0);
      for (const spec of c.good) expect(await violations(c.file, use(spec)), `${spec} from ${c.file}`).toEqual([]);
    });
  }

  it('type-only imports count too (a type pulls its module into the layer)', async () => {
    expect(await violations('src/main/core/api-example.ts', "import type { CliHosts } from '../cli/fool';\nexport type X = CliHosts;\n")).toHaveLength(1);
  });

  it('a Svelte component of the renderer is held to the same rule', async () => {
    const svelte = (spec: string) => `<script lang="ts">\n  import { x } from '${spec}';\n  const y = x;\n</script>\n<p>{y}</p>\n`;
    expect(await violations('src/renderer/src/components/Example.svelte', svelte('../../../main/core/lab'))).toHaveLength(1);
    expect(await violations('src/renderer/src/components/Example.svelte', svelte('../../../shared/api'))).toEqual([]);
  });

  it('the entry point may put hosts together (src/main/entries)', async () => {
    const code = "import { startServer } from '../server/server';\nimport { buildProgram } from '../cli/fool';\nexport const p = buildProgram({ startServer });\n";
    expect(await violations('src/main/entries/example.ts', code)).toEqual([]);
  });

  it('the CLI reaches the core only through its API entry (rule switched on)', async () => {
    const file = 'src/main/cli/commands/example.ts';
    for (const spec of ['../../core/lab', '../../core/experiments/transfer', '../../core/apiary']) {
      expect(await violations(file, use(spec), withCliRule), spec).toHaveLength(1);
    }
    for (const spec of ['../../core/api', '../../core/api/jobs', '../../../shared/api', '../../host-common/security']) {
      expect(await violations(file, use(spec), withCliRule), spec).toEqual([]);
    }
    // and the host rules still hold beside it
    expect(await violations(file, use('../../server/server'), withCliRule)).toHaveLength(1);
  });
});
