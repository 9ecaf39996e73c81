#!/usr/bin/env node
// A local fleet of real sshd hosts on loopback, for the demo and the benchmarks (needs root and a build).
//   node scripts/local-fleet.mjs up [--count N] [--dir DIR]   start N hosts, print the inventory path
//   node scripts/local-fleet.mjs down [--dir DIR]             stop them
import { parseArgs } from 'node:util';
import { localFleetDown, localFleetUp } from '../dist/lab/local-fleet.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '5' }, dir: { type: 'string', default: '.local-fleet' } },
});
const [action] = positionals;
if (action === 'up') {
  const state = await localFleetUp(values.dir, Number(values.count));
  process.stderr.write(
    `local fleet: ${state.hosts.length} sshd hosts on 127.0.0.1 (${state.hosts.map((h) => h.port).join(', ')})\n`,
  );
  process.stdout.write(`${state.inventory}\n`);
} else if (action === 'down') {
  process.stderr.write(`local fleet: stopped ${localFleetDown(values.dir)} sshd hosts\n`);
} else {
  process.stderr.write('usage: node scripts/local-fleet.mjs up [--count N] [--dir DIR] | down [--dir DIR]\n');
  process.exitCode = 2;
}
