#!/usr/bin/env node
// Boot-to-SSH figures of the lab: cold boots (`lab reset`: new overlay, QEMU start to SSH login) and in-guest
// reboots (detached `systemctl reboot` to a login on a new boot_id), min/median/max.
//   npm run build && node bench/lab-boot.mjs [--hosts 3] [--rounds 2]
// Uses the running lab (or starts one with `lab up`), resets the hosts it measured when done.
import { readFileSync } from 'node:fs';
import { labSettings } from '../dist/lab/settings.js';
import { labUp, labReset, connectLabHost } from '../dist/lab/lab.js';
import { labTarget, waitForSsh } from '../dist/lab/ssh-ready.js';
import { labPaths, readLabState } from '../dist/lab/state.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const hosts = arg('hosts', 3);
const rounds = arg('rounds', 2);
const settings = labSettings(process.env, (p) => readFileSync(p, 'utf8'));
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
};
const secs = (ms) => Math.round(ms / 100) / 10;

const up = await labUp(settings, { hosts, profile: 'intel' });
const names = Object.keys(up.state.hosts).slice(0, hosts);
const cold = Object.values(up.bootMs).map(secs);
const reboots = [];
const paths = labPaths(settings.stateDir);
for (let r = 0; r < rounds; r++) {
  // All hosts at once: the lab's normal case (three VMs rebooting together on two cores).
  const t = await Promise.all(names.map(async (h) => {
    const conn = await connectLabHost(settings, h);
    const before = (await conn.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    await conn.exec("nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &");
    await conn.close();
    const vm = readLabState(paths).hosts[h];
    const ready = await waitForSsh(labTarget(vm, { operatorKey: paths.operatorKey, knownHosts: paths.knownHosts }), {
      timeoutMs: settings.bootTimeoutMs, pollMs: settings.sshPollMs, notBootId: before,
    });
    return secs(ready.waitedMs);
  }));
  reboots.push(...t);
  console.error(`round ${r + 1}: reboot to SSH ${t.join(', ')} s`);
}
const resets = await Promise.all(names.map(async (h) => secs((await labReset(settings, h)).waitedMs)));
cold.push(...resets);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(JSON.stringify({ hosts, accel: up.state.accel, coldBootToSsh: stats(cold), rebootToSsh: stats(reboots), cold, reboots, loadavg: load }, null, 2));
