/**
 * KVM or TCG. /dev/kvm existing is not enough: on some hosts QEMU starts with -accel kvm and even SeaBIOS
 * prints, but the guest kernel never runs. So the probe boots the lab image itself under KVM (read-only,
 * -snapshot) and waits for the kernel's first console line (QEMU runs through zx). The verdict is cached for a day.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import type { Accel } from './qemu-args.js';
import type { LabSettings } from './settings.js';

const PROBE_MS = 30_000;

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Boot the image under KVM; true when the kernel printed on the serial console within PROBE_MS. */
export async function probeKvm(workDir: string, image: string): Promise<boolean> {
  const dir = mkdtempSync(join(workDir, 'kvm-probe-'));
  const log = join(dir, 'serial.log');
  const booted = () => existsSync(log) && /Linux version/.test(readFileSync(log, 'utf8'));
  const args = [
    '-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '512', '-nodefaults', '-display', 'none', '-snapshot',
    '-drive', `file=${image},format=qcow2,if=virtio`, '-serial', `file:${log}`,
  ];
  const qemu = $({ stdio: 'ignore', nothrow: true, quiet: true, timeout: PROBE_MS, timeoutSignal: 'SIGKILL' })`qemu-system-x86_64 ${args}`;
  // The kernel's first line is the answer: stop QEMU then rather than at the timeout.
  const watch = setInterval(() => {
    if (booted() && qemu.stage === 'running') qemu.kill('SIGKILL').catch(() => undefined);
  }, 250);
  try {
    await qemu;
    return booted();
  } finally {
    clearInterval(watch);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The accelerator lab VMs use: the setting, or the (cached) probe's verdict for 'auto'. */
export async function chooseAccel(settings: LabSettings, image: string): Promise<Accel> {
  if (settings.accel !== 'auto') return settings.accel;
  if (!kvmUsable()) return 'tcg';
  mkdirSync(settings.cacheDir, { recursive: true });
  const cache = join(settings.cacheDir, 'accel-probe.json');
  if (existsSync(cache) && Date.now() - statSync(cache).mtimeMs < 24 * 3600_000) {
    const { accel } = JSON.parse(readFileSync(cache, 'utf8')) as { accel: Accel };
    if (accel === 'kvm' || accel === 'tcg') return accel;
  }
  const accel: Accel = (await probeKvm(settings.cacheDir, image)) ? 'kvm' : 'tcg';
  writeFileSync(cache, JSON.stringify({ accel, probedAt: new Date().toISOString() }) + '\n');
  return accel;
}
