#!/usr/bin/env node
// The floor for "one command on N hosts" from Node: ssh2 directly, one connect + one exec per host, all hosts at
// once, host key compared with the fleet's known key and nothing else (no inventory, no events, no rendering).
// With --stdin the file goes to `sh -s` on stdin instead (as `rollgate snapshot` sends its collection script).
//   node bench/ssh2-lower-bound.mjs FLEET_DIR COMMAND_FILE [--stdin]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const [dir, commandFile, mode] = process.argv.slice(2);
const viaStdin = mode === '--stdin';
const state = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8'));
const command = readFileSync(commandFile, 'utf8');
const privateKey = readFileSync(state.clientKey);
const known = new Map(
  readFileSync(state.knownHosts, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [name, , key] = l.split(' ');
      return [name, key];
    }),
);

function one(port) {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.exec(viaStdin ? 'sh -s' : command, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        let code = null;
        stream.on('data', (d) => (out += d)).on('exit', (c) => (code = c));
        stream.stderr.resume();
        stream.on('close', () => {
          client.end();
          code === 0 ? resolve(out.length) : reject(new Error(`port ${port}: exit ${code}`));
        });
        stream.end(viaStdin ? command : undefined);
      });
    });
    client.on('error', reject);
    client.connect({
      host: '127.0.0.1',
      port,
      username: 'rgops',
      privateKey,
      readyTimeout: 60_000,
      hostVerifier: (key) => key.toString('base64') === known.get(`[127.0.0.1]:${port}`),
    });
  });
}

const results = await Promise.allSettled(state.hosts.map((h) => one(h.port)));
const failed = results.filter((r) => r.status === 'rejected');
process.stdout.write(`ok=${results.length - failed.length} failed=${failed.length}\n`);
for (const f of failed) process.stderr.write(`${f.reason?.message ?? f.reason}\n`);
process.exitCode = failed.length ? 1 : 0;
