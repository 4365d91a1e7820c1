import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../src/main/core/models/onnx-graph';
import { fool, tempDir } from './helpers';

/**
 * A model whose outputs are not numbers (NaN weights, as a broken export or an overflow gives):
 * classify must not print "NaN%" and exit 0, evolve must not die on a database constraint.
 */
describe('a model that outputs NaN', () => {
  it('classify and evolve refuse it with one message naming the model; nothing half-stored', async () => {
    const dir = tempDir();
    const model = decodeModel(readFileSync(resolve(__dirname, '../resources/models/lenet-mnist.onnx')));
    // The first float initializer (conv1's weights) becomes NaN.
    const w = model.graph!.initializer!.find((t) => (t.rawData?.length ?? 0) > 0 || (t.floatData?.length ?? 0) > 0)!;
    if (w.rawData && w.rawData.length > 0) w.rawData = new Uint8Array(new Float32Array(w.rawData.length / 4).fill(NaN).buffer);
    else w.floatData = new Array(w.floatData!.length).fill(NaN);
    const file = join(dir, 'nan.onnx');
    writeFileSync(file, encodeModel(model));
    const db = join(dir, 'lab.db');
    // Registration's self-check classifies with it: refused there already.
    const refused = await fool(['models', 'add', file, '--name', 'nan', '--preset', 'mnist', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/model "nan" gave NaN as a probability/);
    // Registered without the self-check, it is refused by every command that classifies.
    const added = await fool(['models', 'add', file, '--name', 'nan', '--preset', 'mnist', '--no-check', '--db', db]);
    expect(added.code, added.stderr).toBe(0);

    const png = join(dir, 'grey.png');
    const sharp = (await import('sharp')).default;
    await sharp({ create: { width: 28, height: 28, channels: 3, background: '#808080' } }).png().toFile(png);
    const c = await fool(['classify', '--model', 'nan', png, '--db', db]);
    expect(c.code).toBe(2);
    expect(c.stdout).not.toMatch(/NaN%/);
    expect(c.stderr.trim().split('\n').at(-1)).toMatch(/^fool: model "nan" gave NaN as a probability .*not numbers\. Check the model/);

    const e = await fool(['evolve', '--model', 'nan', '--encoding', 'direct', '--generations', '2', '--batch', '10', '--workers', '1', '--db', db]);
    expect(e.code).toBe(2);
    expect(e.stderr).not.toMatch(/NOT NULL|constraint/);
    expect(e.stderr).toMatch(/model "nan" gave NaN/);
    const d = new Database(db, { readonly: true });
    expect((d.prepare('SELECT COUNT(*) AS n FROM generation_stats').get() as { n: number }).n).toBe(0);
    d.close();
  });
});
