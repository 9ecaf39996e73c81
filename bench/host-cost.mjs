#!/usr/bin/env node
// What rollgate's own work costs a host, as emulated CPU of a lab VM (utime + stime of its QEMU process, a figure
// other load on the machine moves far less than wall time), min/median/max over rounds, JSON on stdout:
//   login      one SSH login as root running `true`, the 12 s after it included (logind stops an idle user manager
//              10 s after the last session unless the image keeps it), the VM's idle CPU over those 12 s subtracted
//   check      `rollgate check --limit lab1` (one connection as the inventory's sudo user, one collection script)
//   kinds      what a rollout's plan reads of each host to tell hardware kinds apart (DMI, CPU, lspci)
//   snapshot   a whole snapshot through the same connection code (collectSnapshot, as the rollout's pre-change
//              and post-boot snapshots)
// Runs its own one-VM lab (ROLLGATE_LAB_STATE, default ~/.local/state/rollgate/lab-bench) and stops it at the end.
//   npm run build && node bench/host-cost.mjs [--rounds 5]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
process.env.ROLLGATE_LAB_STATE ||= join(homedir(), '.local', 'state', 'rollgate', 'lab-bench');
const { labSettings } = await import('../dist/lab/settings.js');
const { labUp, labDown, connectLabHost } = await import('../dist/lab/lab.js');
const { labPaths, readLabState } = await import('../dist/lab/state.js');
const { collectSnapshot } = await import('../dist/modules/facts/collect.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 5);
const settings = labSettings(process.env, (p) => readFileSync(p, 'utf8'));
const inventoryFile = join(settings.stateDir, 'inventory.yml');
const paths = labPaths(settings.stateDir);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1], values: xs };
};
const log = (m) => process.stderr.write(`${m}\n`);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const vm = () => readLabState(paths).hosts.lab1;
const qemuCpu = () => {
  const pid = readFileSync(vm().pidFile, 'utf8').trim();
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpuOf = async (fn) => {
  const c = qemuCpu();
  await fn();
  return Math.round((qemuCpu() - c) * 100) / 100;
};
const IDLE_MS = 12_000;

await labDown(settings, { inventoryFile });
const up = await labUp(settings, { hosts: 1, profile: 'intel', inventoryFile });
log(`lab up: ${JSON.stringify(up.bootMs)} ${JSON.stringify(up.restoreMs)}`);
await pause(15_000); // the restored VM settles (its clock jumped)
const rec = vm();
const ssh = [
  '-i',
  paths.operatorKey,
  '-o',
  `UserKnownHostsFile=${paths.knownHosts}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-p',
  String(rec.sshPort),
  'root@127.0.0.1',
  'true',
];
const figures = { idle12s: [], login: [], check: [], kinds: [], snapshot: [] };
for (let r = 0; r < rounds; r++) {
  const idle = await cpuOf(() => pause(IDLE_MS));
  figures.idle12s.push(idle);
  const login = await cpuOf(async () => {
    execFileSync('ssh', ssh, { stdio: 'ignore' });
    await pause(IDLE_MS);
  });
  figures.login.push(Math.round((login - idle) * 100) / 100);
  figures.check.push(
    await cpuOf(async () => {
      try {
        execFileSync(process.execPath, ['bin/rollgate.js', 'check', '-i', inventoryFile, '--limit', 'lab1'], {
          stdio: 'ignore',
        });
      } catch {
        // check exits non-zero on findings; its cost is what counts here
      }
    }),
  );
  const conn = await connectLabHost(settings, 'lab1');
  try {
    figures.kinds.push(
      await cpuOf(() => collectSnapshot(conn, { name: 'lab1' }, { only: ['dmi', 'cpuinfo', 'lspci'] })),
    );
    figures.snapshot.push(await cpuOf(() => collectSnapshot(conn, { name: 'lab1' })));
  } finally {
    await conn.close();
  }
  log(
    `round ${r + 1}: ${Object.entries(figures)
      .map(([k, v]) => `${k} ${v.at(-1)} s`)
      .join(', ')}`,
  );
}
await labDown(settings, { inventoryFile });
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const out = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, stats(v)]));
console.log(JSON.stringify({ rounds, accel: up.state.accel, cpuSeconds: out, loadavg: load }, null, 2));
