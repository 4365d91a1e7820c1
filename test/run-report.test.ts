import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { formatConfidence } from '../src/shared/confidence';
import { fool, foolJson, tempDir } from './helpers';

/** A run's report as a folder (fool report --run / fool runs report), on the shipped LeNet. */
describe('fool report --run', () => {
  it("writes the run's report: curves, archive thumbnails, the classes below 99.99%, settings", async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    const run = await foolJson<{ runId: number }>(['evolve', '--model', 'lenet-mnist', '--encoding', 'direct', '--generations', '3', '--seed', '5', '--db', db]);
    const out = join(dir, 'report');
    const r = await foolJson<{ runId: number; dir: string; files: string[]; classes: number; below9999: { class: number; label: string; confidence: number | null }[] }>(['report', '--run', String(run.runId), '--out', out, '--db', db]);
    expect(r).toMatchObject({ runId: run.runId, dir: out, classes: 10 });
    for (const f of ['index.html', 'report.json', 'confidence.png', 'confidence.svg', 'cells.png', 'cells.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect((await sharp(join(out, 'confidence.png')).metadata()).width).toBeGreaterThan(300);
    // Three generations of direct encoding leave classes below 99.99%: the page names each of them.
    expect(r.below9999.length).toBeGreaterThan(0);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain(`Classes still below 99.99% (${r.below9999.length} of 10)`);
    const belowSection = html.slice(html.indexOf('Classes still below'), html.indexOf('Final archive'));
    for (const c of r.below9999) {
      expect(belowSection).toContain(`<td>${c.label}</td>`);
      if (c.confidence !== null) expect(belowSection).toContain(formatConfidence(c.confidence));
    }
    // The archive: one 28 -> 84 thumbnail per champion (a whole factor), and the settings.
    const thumbs = r.files.filter((f) => f.startsWith('champions/'));
    expect(thumbs.length).toBeGreaterThan(0);
    const meta = await sharp(join(out, thumbs[0])).metadata();
    expect([meta.width, meta.height]).toEqual([84, 84]);
    expect(html).toContain(thumbs[0]);
    expect(html).toContain('&quot;encoding&quot;: &quot;direct&quot;');

    // The same through `fool runs report`.
    const again = await foolJson<{ files: string[] }>(['runs', 'report', String(run.runId), '--out', join(dir, 'again'), '--db', db]);
    expect(again.files.sort()).toEqual(r.files.sort());

    // Wrong input: one clear error naming the fix, exit 2.
    const missing = await fool(['report', '--run', '99', '--out', join(dir, 'x'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run 99/);
    expect(missing.stderr).toMatch(/fool runs list/);
    const both = await fool(['report', '1', '--run', String(run.runId), '--out', join(dir, 'y'), '--db', db]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/Pass one/);
    const neither = await fool(['report', '--out', join(dir, 'z'), '--db', db]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/--run RUN/);
  });
});
