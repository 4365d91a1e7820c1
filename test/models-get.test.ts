import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_CATALOGUE } from '../src/main/core/models/catalogue';
import { fool, foolJson, tempDir } from './helpers';
import { SHIPPED_LENET } from './torch-style-models';

/**
 * `fool models get` against a real HTTP server started here, serving the shipped LeNet (a small
 * ONNX model) with Range support. /drop/ routes break the connection partway, as a flaky network does.
 */
const BYTES = readFileSync(SHIPPED_LENET);
const SHA = createHash('sha256').update(BYTES).digest('hex');

let server: Server;
let base: string;
/** Every request seen: path and Range header. */
const seen: { url: string; range?: string }[] = [];
/** /drop/ routes: how many bytes each response sends before the connection is cut (until `dropsLeft` runs out). */
let dropAfter = 200_000;
let dropsLeft = 0;

function serve(req: IncomingMessage, res: import('node:http').ServerResponse) {
  seen.push({ url: req.url ?? '', range: req.headers.range });
  if (!req.url?.endsWith('.onnx')) {
    res.writeHead(404).end();
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start >= BYTES.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${BYTES.length}` }).end();
    return;
  }
  const body = BYTES.subarray(start);
  res.writeHead(m ? 206 : 200, {
    'Content-Length': body.length,
    'Content-Type': 'application/octet-stream',
    ...(m ? { 'Content-Range': `bytes ${start}-${BYTES.length - 1}/${BYTES.length}` } : {}),
  });
  if (req.url.startsWith('/drop/') && dropsLeft > 0) {
    dropsLeft--;
    res.write(body.subarray(0, dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(body);
}

function entry(name: string, url: string, sha256 = SHA) {
  return {
    name,
    title: `LeNet served by the test (${name})`,
    url,
    bytes: BYTES.length,
    sha256,
    preset: 'mnist',
    labels: 'digits',
    verified: true,
    source: 'test/models-get.test.ts',
    licence: 'MIT (Fooling Lab)',
  };
}

let catalogueFile: string;
const env = () => ({ FOOL_CATALOGUE: catalogueFile });

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  catalogueFile = join(tempDir(), 'catalogue.json');
  writeFileSync(
    catalogueFile,
    JSON.stringify([
      entry('tiny', `${base}/models/lenet.onnx`),
      entry('tiny-flaky', `${base}/drop/lenet.onnx`),
      entry('tiny-badhash', `${base}/models/lenet-bad.onnx`, '0'.repeat(64)),
      entry('tiny-offline', 'http://models.fooling-lab.invalid/lenet.onnx'),
    ]),
  );
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface GetResult {
  model: { name: string; file: string };
  entry: { name: string };
  resumedFrom: number;
  check: { passed: boolean; accuracy: number } | null;
}

describe('fool models get: the catalogue', () => {
  it('pins every built-in model by URL, size and SHA-256, with the models the issue names', async () => {
    const r = await foolJson<{ catalogue: { name: string; url: string; bytes: number; sha256: string; verified: boolean }[] }>(['models', 'get', '--list', '--db', join(tempDir(), 'lab.db')]);
    const names = r.catalogue.map((e) => e.name);
    for (const n of ['alexnet', 'caffenet', 'googlenet', 'squeezenet1.0', 'squeezenet1.1', 'vgg16', 'resnet50-v1', 'resnet50-v2', 'mobilenet-v2']) expect(names).toContain(n);
    for (const e of r.catalogue) {
      expect(e.url).toMatch(/^https:\/\/github\.com\/onnx\/models\/raw\/[0-9a-f]{40}\/.*\.onnx$/);
      expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.bytes).toBeGreaterThan(1e6);
    }
    expect(r.catalogue).toEqual(expect.arrayContaining(BUILTIN_CATALOGUE.map((e) => expect.objectContaining({ name: e.name, verified: false }))));
    const alex = r.catalogue.find((e) => e.name === 'alexnet')!;
    expect(alex).toMatchObject({ bytes: 243863787, sha256: '6b0da9510f27f234ee96a85dc3809dd210150fdefad87f6850f9788513216945' });
  });
});

describe('fool models get against a local server', () => {
  it('downloads, verifies and registers a model, with its self-check', async () => {
    const db = join(tempDir(), 'lab.db');
    const r = await foolJson<GetResult>(['models', 'get', 'tiny', '--db', db], env());
    expect(r.model.name).toBe('tiny');
    expect(readFileSync(r.model.file).equals(BYTES)).toBe(true);
    expect(r.check).toMatchObject({ passed: true });
    expect(r.check!.accuracy).toBeGreaterThan(0.98);
    // Nothing left behind in the download folder.
    expect(readdirSync(join(db.replace(/\.db$/, '.models'), '.downloads'))).toEqual([]);
    const again = await fool(['models', 'get', 'tiny', '--db', db], env());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/a model named "tiny" already exists in this lab/);
  });

  it('resumes after a dropped connection, within the command and in the next one', async () => {
    const db = join(tempDir(), 'lab.db');
    // One drop: the command reconnects and asks for the rest.
    seen.length = 0;
    dropAfter = 300_000;
    dropsLeft = 1;
    const r = await foolJson<GetResult>(['models', 'get', 'tiny-flaky', '--db', db], env());
    expect(readFileSync(r.model.file).equals(BYTES)).toBe(true);
    const requests = seen.filter((s) => s.url.startsWith('/drop/'));
    expect(requests).toHaveLength(2);
    expect(requests[0].range).toBeUndefined();
    expect(requests[1].range).toBe('bytes=300000-');

    // The connection drops more often than the command retries: it stops, keeps what it has, and
    // the same command resumes from there.
    const db2 = join(tempDir(), 'lab.db');
    seen.length = 0;
    dropAfter = 100_000;
    dropsLeft = 4;
    const broken = await fool(['models', 'get', 'tiny-flaky', '--db', db2], env());
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broke off 4 times \(last at 0\.4 MB of 1\.7 MB.*Run the same command again: it resumes where it stopped/);
    const part = join(db2.replace(/\.db$/, '.models'), '.downloads', `tiny-flaky-${SHA.slice(0, 12)}-lenet.onnx.part`);
    expect(readFileSync(part).length).toBe(400_000);
    const resumed = await foolJson<GetResult>(['models', 'get', 'tiny-flaky', '--db', db2], env());
    expect(resumed.resumedFrom).toBe(400_000);
    expect(seen.at(-1)!.range).toBe('bytes=400000-');
    expect(readFileSync(resumed.model.file).equals(BYTES)).toBe(true);
    expect(existsSync(part)).toBe(false);
  });

  it('refuses a file whose hash does not match, deletes it and registers nothing', async () => {
    const db = join(tempDir(), 'lab.db');
    // The lab exists first, so stderr holds only the refusal (a new lab is announced there).
    expect((await fool(['models', 'list', '--db', db])).code).toBe(0);
    const r = await fool(['models', 'get', 'tiny-badhash', '--db', db], env());
    expect(r.code).toBe(2);
    // One message (the other stderr lines are the progress of the download).
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fool:'))).toHaveLength(1);
    expect(r.stderr).toMatch(/is not the expected one \(1725139 bytes, SHA-256 [0-9a-f]{64}; expected 1725139 bytes, SHA-256 0{64}\) and was deleted/);
    const list = await foolJson<{ models: { name: string }[] }>(['models', 'list', '--db', db]);
    expect(list.models.map((m) => m.name)).not.toContain('tiny-badhash');
    expect(readdirSync(join(db.replace(/\.db$/, '.models'), '.downloads'))).toEqual([]);
  });

  it('offline: one message with where to get the file and the models add command', async () => {
    const db = join(tempDir(), 'lab.db');
    // The lab exists first, so stderr holds only the refusal (a new lab is announced there).
    expect((await fool(['models', 'list', '--db', db])).code).toBe(0);
    const r = await fool(['models', 'get', 'tiny-offline', '--db', db], env());
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /cannot download tiny-offline: cannot reach models\.fooling-lab\.invalid \(\w+\); this machine looks offline\. On a machine with internet, download http:\/\/models\.fooling-lab\.invalid\/lenet\.onnx \(1\.7 MB, SHA-256 [0-9a-f]{64}\), copy it here and register it with: fool models add lenet\.onnx --name tiny-offline --preset mnist/,
    );
    const json = await fool(['models', 'get', 'tiny-offline', '--db', db, '--json'], env());
    expect(JSON.parse(json.stdout).error.code).toBe('OFFLINE');
  });

  it('an unknown name lists the catalogue', async () => {
    const r = await fool(['models', 'get', 'lenet5000', '--db', join(tempDir(), 'lab.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no model "lenet5000" in the catalogue\. Available: alexnet, caffenet, googlenet/);
  });
});
