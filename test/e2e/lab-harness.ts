/**
 * The shared lab of the end-to-end suite. Every e2e file (of every issue) calls `ensureLab()`: the first one
 * builds the image if needed and boots the VMs, later ones reuse the running lab through its state dir. Files
 * that change a host call `markDirty(host)`; a later `ensureLab({ pristine: true })` resets only those hosts.
 * test/e2e/global-setup.ts stops the lab after the run when the run started it (ROLLGATE_LAB_KEEP=1 keeps it).
 *
 *   const lab = await ensureLab({ hosts: 3, profile: 'intel' });
 *   const conn = await lab.connect('lab1');              // as the inventory says: rgops, sudo, strict host keys
 *   const boot = await lab.reboot('lab1');               // detached reboot, waits for a new boot_id over SSH
 *   const mark = lab.consoleMark('lab2'); await lab.waitConsole('lab2', mark, /ALERT!/, 300_000);
 *   await lab.power('lab2').reset();                     // QMP
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import { SshConnection } from '../../src/connection/ssh.js';
import type { SshTarget } from '../../src/connection/target.js';
import { consoleMark, consoleSince, waitForConsole } from '../../src/lab/console.js';
import { armFault, clearFaults, type FaultKind } from '../../src/lab/faults/faults.js';
import { kindFor, type LabProfile } from '../../src/lab/kinds.js';
import { connectLabHost, labReset, labUp, type LabUpResult } from '../../src/lab/lab.js';
import { labSettings, type LabSettings } from '../../src/lab/settings.js';
import { labTarget, waitForSsh, type Ready } from '../../src/lab/ssh-ready.js';
import { hostNames, labPaths, readLabState, type LabPaths, type LabState, type VmRecord } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';
import { QmpPowerDriver } from '../../src/power/qmp.js';

/**
 * `npm test` runs the e2e files that prove the main job (lab up, check, the staged rollout); the fault scenarios,
 * the module-by-module reboots and the lab's own boot tests take 40+ more minutes of TCG reboots and run only with
 * ROLLGATE_E2E_FULL=1 (docs/lab.md, "Which e2e tests run where").
 */
export const E2E_FULL = process.env.ROLLGATE_E2E_FULL === '1';

export interface EnsureLabOptions {
  /** Default 3. */
  hosts?: number;
  /** Default 'intel'. A running lab of another profile is an error (the suite shares one lab). */
  profile?: LabProfile;
  /** Reset hosts an earlier file marked dirty before returning. Default false. */
  pristine?: boolean;
}

export interface Lab {
  settings: LabSettings;
  state: LabState;
  paths: LabPaths;
  /** inventory/lab.yml of this checkout (written by lab up). */
  inventoryFile: string;
  hosts: string[];
  vm(host: string): VmRecord;
  /** The SSH target the inventory describes for a host (its user, key, known_hosts; strict). */
  inventoryTarget(host: string): SshTarget;
  /** Connect as the inventory says (rgops with sudo), or as root for lab machinery. */
  connect(host: string, user?: 'inventory' | 'root'): Promise<SshConnection>;
  bootId(host: string): Promise<string>;
  /** Reboot from inside (detached, so the command's reply is not lost); waits for a new boot_id. */
  reboot(host: string, timeoutMs?: number): Promise<Ready>;
  /** Wait for an SSH login on a boot other than `notBootId`. */
  waitForBoot(host: string, notBootId?: string, timeoutMs?: number): Promise<Ready>;
  power(host: string): QmpPowerDriver;
  consoleMark(host: string): number;
  consoleSince(host: string, mark: number): string;
  waitConsole(host: string, mark: number, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  arm(host: string, kind: FaultKind, opts?: { slowBootSeconds?: number }): Promise<void>;
  clear(host: string): Promise<void>;
  /** Record that a host was changed, so a later ensureLab({ pristine: true }) resets it. */
  markDirty(host: string): void;
  /** Back to pristine now (new overlay, boot, SSH). */
  reset(host: string): Promise<Ready>;
}

function dirtyFile(vm: VmRecord): string {
  return `${vm.dir}/dirty`;
}

function inventoryTargetFrom(file: string, host: string, connectTimeoutMs: number): SshTarget {
  const doc = load(readFileSync(file, 'utf8')) as { all: { vars: Record<string, unknown>; children: { lab: { hosts: Record<string, Record<string, unknown>> } } } };
  const vars = { ...doc.all.vars, ...doc.all.children.lab.hosts[host] };
  if (!doc.all.children.lab.hosts[host]) throw new Error(`${file} has no host ${host}`);
  return {
    name: host,
    address: String(vars.ansible_host),
    port: Number(vars.ansible_port),
    user: String(vars.ansible_user),
    identityFiles: [String(vars.ansible_ssh_private_key_file)],
    agentSocket: '',
    knownHostsFiles: [String(vars.rollgate_known_hosts_file)],
    hostKeyPolicy: 'strict',
    become: vars.ansible_become === true,
    connectTimeoutMs,
  };
}

/** Boot (or reuse) the shared lab. */
export async function ensureLab(opts: EnsureLabOptions = {}): Promise<Lab> {
  const settings = labSettings(process.env, (p) => readFileSync(p, 'utf8'));
  const paths = labPaths(settings.stateDir);
  const hosts = opts.hosts ?? 3;
  const profile = opts.profile ?? 'intel';
  const inventoryFile = resolve('inventory/lab.yml');
  const existing = readLabState(paths);
  const allRunning = existing && Array.from({ length: hosts }, (_, i) => existing.hosts[`lab${i + 1}`]).every((vm, i) => vm && vmPid(vm) && vm.iommu === kindFor(profile, i).iommu);
  let result: Pick<LabUpResult, 'state'>;
  if (allRunning && existsSync(inventoryFile)) result = { state: existing };
  else {
    const up = await labUp(settings, { hosts, profile, inventoryFile });
    const figures = Object.entries(up.bootMs).map(([h, ms]) => `${h} ${Math.round(ms / 1000)} s`).join(', ');
    if (figures) console.info(`[lab figures] cold boot to SSH login (${hosts} VMs together): ${figures}`);
    result = up;
  }
  const state = readLabState(paths) ?? result.state;
  const vm = (host: string) => {
    const v = state.hosts[host];
    if (!v) throw new Error(`no lab host ${host}`);
    return v;
  };
  if (opts.pristine) {
    const dirty = hostNames(state).filter((h) => existsSync(dirtyFile(vm(h))));
    await Promise.all(dirty.map(async (h) => {
      await labReset(settings, h);
      rmSync(dirtyFile(vm(h)), { force: true });
    }));
  }
  const rootTarget = (host: string) => labTarget(vm(host), { operatorKey: paths.operatorKey, knownHosts: paths.knownHosts }, 'root', settings.sshConnectTimeoutMs);
  const lab: Lab = {
    settings,
    state,
    paths,
    inventoryFile,
    hosts: hostNames(state).slice(0, hosts),
    vm,
    inventoryTarget: (host) => inventoryTargetFrom(inventoryFile, host, settings.sshConnectTimeoutMs),
    connect: (host, user = 'inventory') => (user === 'root' ? connectLabHost(settings, host) : SshConnection.open(lab.inventoryTarget(host))),
    async bootId(host) {
      const conn = await lab.connect(host, 'root');
      try {
        return (await conn.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
      } finally {
        await conn.close();
      }
    },
    async reboot(host, timeoutMs = settings.bootTimeoutMs) {
      const conn = await lab.connect(host, 'root');
      let before: string;
      try {
        before = (await conn.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
        await conn.exec("nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &");
      } finally {
        await conn.close();
      }
      return lab.waitForBoot(host, before, timeoutMs);
    },
    waitForBoot: (host, notBootId, timeoutMs = settings.bootTimeoutMs) =>
      waitForSsh(rootTarget(host), { timeoutMs, pollMs: settings.sshPollMs, notBootId, consoleLog: vm(host).consoleLog }),
    power: (host) => new QmpPowerDriver(vm(host).qmpSocket),
    consoleMark: (host) => consoleMark(vm(host).consoleLog),
    consoleSince: (host, mark) => consoleSince(vm(host).consoleLog, mark),
    waitConsole: (host, mark, pattern, timeoutMs) => waitForConsole(vm(host).consoleLog, mark, pattern, timeoutMs),
    async arm(host, kind, o = {}) {
      lab.markDirty(host);
      await armFault(kind, { vm: vm(host), connect: () => connectLabHost(settings, host), slowBootSeconds: o.slowBootSeconds });
    },
    clear: (host) => clearFaults({ vm: vm(host), connect: () => connectLabHost(settings, host) }),
    markDirty: (host) => writeFileSync(dirtyFile(vm(host)), `${new Date().toISOString()}\n`),
    async reset(host) {
      const ready = await labReset(settings, host);
      rmSync(dirtyFile(vm(host)), { force: true });
      return ready;
    },
  };
  return lab;
}
