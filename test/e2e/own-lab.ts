/**
 * For e2e scenarios that bring lab VMs of their own beside the shared lab (the systemd-boot and guests labs): their
 * settings (the shared lab's state dir + a suffix), whether the shared lab runs, and a root command on one of their
 * VMs.
 */
import { connectLabHost } from '../../src/lab/lab.js';
import { labSettings, type LabSettings } from '../../src/lab/settings.js';
import { hostNames, labPaths, readLabState } from '../../src/lab/state.js';
import { vmPid } from '../../src/lab/vm.js';
import { e2eSettings } from './lab-harness.js';

/** Settings of a lab of its own: ROLLGATE_LAB_STATE (default the e2e lab's) + `-SUFFIX`. */
export function ownLabSettings(suffix: string): LabSettings {
  return labSettings({ ...process.env, ROLLGATE_LAB_STATE: `${e2eSettings().stateDir}-${suffix}` });
}

/** Whether any VM of the shared e2e lab is running. */
export function sharedLabUp(): boolean {
  const state = readLabState(labPaths(e2eSettings().stateDir));
  return !!state && hostNames(state).some((h) => vmPid(state.hosts[h]!) !== undefined);
}

/** A root command on a VM of an own lab; its trimmed stdout, or an error naming the host, command and output. */
export async function onOwnVm(settings: LabSettings, host: string, script: string): Promise<string> {
  const conn = await connectLabHost(settings, host);
  try {
    const r = await conn.exec(script, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new Error(`${host}: ${script}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  } finally {
    await conn.close();
  }
}
