import { execFile, execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOOL, fool, tempDir } from './helpers';

/**
 * What people see in a terminal: the progress line fits the terminal, the ETA is never "NaN", and
 * after Ctrl-C the message and the summary are not drawn over. A real pseudo-terminal comes from
 * util-linux `script`.
 */

const HAS_SCRIPT = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs a shell line in a pseudo-terminal of `cols` columns; its output as the terminal got it. */
function inTerminal(cols: number, line: string): Promise<string> {
  return new Promise((done) => execFile('script', ['-qec', `stty cols ${cols}; ${line}`, '/dev/null'], { maxBuffer: 16 * 1024 * 1024 }, (_e, stdout) => done(stdout)));
}

/* eslint-disable no-control-regex -- terminal escape sequences are what this file reads */
/** The frames the terminal drew: each redraw starts at column 1 (ESC[1G) or after a carriage return. */
const frames = (out: string) =>
  out
    .split(/\x1b\[1G|\r|\n/)
    .map((s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, ''))
    .filter((s) => s.trim() !== '');
/* eslint-enable no-control-regex */

describe.skipIf(!HAS_SCRIPT)(`progress in a terminal${HAS_SCRIPT ? '' : ' (skipped: util-linux "script" is not installed, no pseudo-terminal)'}`, () => {
  it('at 80 columns every progress line fits, and the ETA is never NaN', async () => {
    const db = join(tempDir(), 'lab.db');
    const out = await inTerminal(80, `"${process.execPath}" "${FOOL}" evolve --model lenet-mnist --encoding direct --generations 40 --batch 20 --workers 1 --db "${db}"`);
    const lines = frames(out).filter((l) => l.startsWith('run 1 '));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(80);
    expect(out).not.toMatch(/NaN|INF/);
    expect(out).toMatch(/finished at generation 40/);
  });

  it('Ctrl-C: the message and the summary come after the bar, which is not drawn again', async () => {
    const db = join(tempDir(), 'lab.db');
    // exec: the shell becomes fool, so the delayed kill -INT reaches it as a terminal Ctrl-C would.
    const out = await inTerminal(100, `(sleep 2.5; kill -INT $$) & exec "${process.execPath}" "${FOOL}" evolve --model lenet-mnist --encoding direct --generations 100000 --batch 20 --workers 1 --db "${db}"`);
    const f = frames(out);
    const stop = f.findIndex((l) => l.startsWith('Stopping after this generation'));
    expect(stop, out.slice(-2000)).toBeGreaterThan(0);
    const after = f.slice(stop + 1);
    expect(after.some((l) => l.startsWith('run 1 |'))).toBe(false);
    expect(after.join('\n')).toMatch(/Run 1 \(direct on lenet-mnist, seed 1\): stopped at generation \d+/);
    expect(after.join('\n')).toMatch(/Resume with: fool resume 1/);
  });
});

describe('command-line output', () => {
  it('without a terminal the progress line has an ETA of "-" at generation 0, never NaN', async () => {
    const r = await fool(['evolve', '--model', 'lenet-mnist', '--encoding', 'direct', '--generations', '3', '--batch', '20', '--workers', '1', '--db', join(tempDir(), 'lab.db')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/gen 0\/3 .*ETA -/);
    expect(r.stderr).not.toMatch(/NaN/);
  });

  it('models show says grey for a grey model', async () => {
    const db = join(tempDir(), 'lab.db');
    const shown = await fool(['models', 'show', 'lenet-mnist', '--db', db]);
    // A lab named for the first time is started, and the user is told.
    expect(shown.stderr).toMatch(/starting a new lab at .*lab\.db/);
    expect(shown.stdout).toMatch(/1x28x28, grey,/);
    expect(shown.stdout).not.toMatch(/RGB/);
  });

  it('runs from any folder through a link to bin/fool.js (what `npm link` makes)', async () => {
    const dir = tempDir();
    const link = join(dir, 'fool');
    symlinkSync(FOOL, link);
    const r = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(process.execPath, [link, 'runs', 'list', '--json', '--db', join(dir, 'lab.db')], { cwd: '/' }, (e, stdout) => done({ code: e ? Number(e.code) : 0, stdout })),
    );
    // Reading runs from a --db that does not exist is refused: the lab is named by mistake, not created.
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'lab.db'))).toBe(false);
    const ok = await new Promise<string>((done) => execFile(process.execPath, [link, '--help'], { cwd: '/' }, (_e, stdout) => done(stdout)));
    expect(ok).toMatch(/Usage: fool/);
  });
});
