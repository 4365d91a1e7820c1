import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { packageRoot } from '../core/paths';
import { recordTarget, skipTarget } from './targets';
import { printTable } from './timing';

/**
 * Target 6 of issue 15: the test loop. `npm run test:unit` (build, then the unit project) and the
 * whole `npm test` (build, svelte-check, eslint, then every vitest file), timed end to end as a
 * developer runs them. test:unit is the median of 3 runs; `npm test` runs once (it takes minutes),
 * after a warm-up test:unit, and only without --quick. It rebuilds out/, so it runs last.
 * The load average at the start of each run is printed: a busy machine explains a slow figure.
 */
function timed(script: string): { seconds: number; load: number } {
  const load = loadavg()[0];
  const t0 = performance.now();
  const r = spawnSync('npm', ['run', script, '--silent'], { cwd: packageRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`npm run ${script} failed (exit ${r.status ?? r.signal}); the benchmark times passing tests only:\n${tail}`);
  }
  return { seconds, load };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function testsBench(quick: boolean): Promise<string[]> {
  console.log('\ntest loop: npm run test:unit x3' + (quick ? '' : ', then npm test once (minutes)'));
  timed('test:unit'); // warm-up: the file system cache, vitest's transform cache
  const unit = [timed('test:unit'), timed('test:unit'), timed('test:unit')];
  const rows: (string | number)[][] = [['command', 'runs', 'seconds (median)', 'each', 'load average at start']];
  const u = median(unit.map((r) => r.seconds));
  rows.push(['npm run test:unit', unit.length, u.toFixed(1), unit.map((r) => r.seconds.toFixed(1)).join(', '), unit.map((r) => r.load.toFixed(1)).join(', ')]);
  recordTarget({ id: '6 test:unit', what: 'npm run test:unit: build + the unit tests (median of 3)', value: u, unit: 's', goal: { op: '<=', value: 60 } });
  if (quick) {
    skipTarget('6 npm test', '--quick leaves out the whole `npm test` (minutes); run `npm run bench -- --only tests`');
  } else {
    const all = timed('test');
    rows.push(['npm test', 1, all.seconds.toFixed(1), all.seconds.toFixed(1), all.load.toFixed(1)]);
    recordTarget({ id: '6 npm test', what: 'npm test: build, svelte-check, eslint, every vitest file (one run)', value: all.seconds, unit: 's', goal: { op: '<=', value: 360 } });
  }
  return [printTable('Test loop (issue 15, target 6): wall time of the commands a developer runs', rows)];
}
