#!/usr/bin/env node
// Lab start-up figures, min/median/max over rounds, as JSON on stdout (progress on stderr):
//   up       `lab up --hosts N` from a stopped lab whose VMs have saved booted states: QEMU start to N SSH logins
//   reset    `lab reset HOST`: back to pristine from the saved state, to an SSH login (one VM at a time)
//   cold     one VM alone, cold boot through its GRUB to an SSH login (saved states off)
//   reboot   one VM alone, in-guest `systemctl reboot` to an SSH login on a new boot_id
//   coldCpu, rebootCpu  the emulated CPU those cost: seconds of CPU the VM's QEMU process used (utime + stime
//            from /proc/PID/stat), a figure other load on the machine moves far less than wall time
// Runs its own lab (state dir ROLLGATE_LAB_STATE, default ~/.local/state/rollgate/lab-bench) and stops it at the end.
//   npm run build && node bench/lab-boot.mjs [--hosts 3] [--rounds 3]
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
process.env.ROLLGATE_LAB_STATE ||= join(homedir(), '.local', 'state', 'rollgate', 'lab-bench');
const { labSettings } = await import('../dist/lab/settings.js');
const { labUp, labDown, labReset, connectLabHost } = await import('../dist/lab/lab.js');
const { labTarget, waitForSsh } = await import('../dist/lab/ssh-ready.js');
const { labPaths, readLabState } = await import('../dist/lab/state.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const hosts = arg('hosts', 3);
const rounds = arg('rounds', 3);
const settings = labSettings(process.env, (p) => readFileSync(p, 'utf8'));
const inventoryFile = join(settings.stateDir, 'inventory.yml');
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
};
const secs = (ms) => Math.round(ms / 100) / 10;
const log = (m) => process.stderr.write(`${m}\n`);
const qemuCpu = (vm) => {
  const pid = readFileSync(vm.pidFile, 'utf8').trim();
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15 of stat: utime, stime (clock ticks)
};
const timed = async (fn) => {
  const t = Date.now();
  await fn();
  return secs(Date.now() - t);
};

// The first up saves every VM's booted state (cold boots); afterwards every start is a restore.
await labDown(settings);
const first = await labUp(settings, { hosts, profile: 'intel', inventoryFile });
log(`first up (cold boots, then saved): ${JSON.stringify(first.bootMs)}`);
const figures = { up: [], reset: [], cold: [], reboot: [], coldCpu: [], rebootCpu: [] };
for (let r = 0; r < rounds; r++) {
  await labDown(settings, { keepDisks: false, inventoryFile });
  figures.up.push(await timed(() => labUp(settings, { hosts, profile: 'intel', inventoryFile })));
  log(`round ${r + 1}: up ${figures.up.at(-1)} s`);
  for (let i = 1; i <= hosts; i++) figures.reset.push(await timed(() => labReset(settings, `lab${i}`)));
  log(`round ${r + 1}: resets ${figures.reset.slice(-hosts).join(', ')} s`);
}
// One VM alone for cold boots and reboots: the others stopped.
await labDown(settings, { inventoryFile });
await labUp(settings, { hosts: 1, profile: 'intel', inventoryFile });
const cold = { ...settings, savedStates: false, sshPollMs: 1000 };
const paths = labPaths(settings.stateDir);
for (let r = 0; r < rounds; r++) {
  figures.cold.push(secs((await labReset(cold, 'lab1')).waitedMs));
  const vm = readLabState(paths).hosts.lab1;
  const cpu0 = qemuCpu(vm); // the QEMU process is new: all it used so far is the cold boot
  figures.coldCpu.push(Math.round(cpu0 * 10) / 10);
  const conn = await connectLabHost(settings, 'lab1');
  const before = (await conn.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
  await conn.exec("nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &");
  await conn.close();
  const ready = await waitForSsh(labTarget(vm, { operatorKey: paths.operatorKey, knownHosts: paths.knownHosts }), {
    timeoutMs: settings.bootTimeoutMs,
    pollMs: 1000,
    notBootId: before,
  });
  figures.reboot.push(secs(ready.waitedMs));
  figures.rebootCpu.push(Math.round((qemuCpu(vm) - cpu0) * 10) / 10);
  log(
    `round ${r + 1}: cold ${figures.cold.at(-1)} s (${figures.coldCpu.at(-1)} s CPU), ` +
      `reboot ${figures.reboot.at(-1)} s (${figures.rebootCpu.at(-1)} s CPU)`,
  );
}
await labDown(settings, { inventoryFile });
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const out = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, { ...stats(v), values: v }]));
console.log(JSON.stringify({ hosts, rounds, accel: first.state.accel, seconds: out, loadavg: load }, null, 2));
