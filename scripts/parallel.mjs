#!/usr/bin/env node
// Runs independent commands at once (npm test's build, type check and lint), each one's output kept
// together and printed when it ends; exits non-zero when any command failed, naming it.
// Usage: node scripts/parallel.mjs 'cmd one' 'cmd two' ...   (each command runs through the shell,
// with node_modules/.bin on PATH as in an npm script)
import { spawn } from 'node:child_process';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  process.stderr.write('usage: node scripts/parallel.mjs "command" ["command" ...]\n');
  process.exit(2);
}

const results = await Promise.all(
  commands.map(
    (command) =>
      new Promise((done) => {
        const t0 = performance.now();
        const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env });
        const chunks = [];
        child.stdout.on('data', (d) => chunks.push(d));
        child.stderr.on('data', (d) => chunks.push(d));
        child.on('error', (e) => chunks.push(Buffer.from(`${e.message}\n`)));
        child.on('close', (code, signal) => {
          const s = ((performance.now() - t0) / 1000).toFixed(1);
          const status = code === 0 ? `ok in ${s} s` : `FAILED (${signal ?? `exit ${code}`}) after ${s} s`;
          process.stdout.write(`\n> ${command}: ${status}\n${Buffer.concat(chunks).toString()}`);
          done({ command, ok: code === 0 });
        });
      }),
  ),
);

const failed = results.filter((r) => !r.ok);
if (failed.length > 0) {
  process.stderr.write(`\nfailed: ${failed.map((r) => r.command).join('; ')}\n`);
  process.exit(1);
}
