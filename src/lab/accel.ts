/**
 * KVM or TCG. /dev/kvm existing is not enough: on some hosts QEMU starts with -accel kvm and even SeaBIOS
 * prints, but the guest kernel never runs. So the probe boots the lab image itself under KVM (read-only,
 * -snapshot) and waits for the kernel's first console line. The verdict is cached for a day.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
export function probeKvm(workDir: string, image: string): Promise<boolean> {
  const dir = mkdtempSync(join(workDir, 'kvm-probe-'));
  const log = join(dir, 'serial.log');
  return new Promise((resolve) => {
    const child = spawn('qemu-system-x86_64', [
      '-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '512', '-nodefaults', '-display', 'none', '-snapshot',
      '-drive', `file=${image},format=qcow2,if=virtio`, '-serial', `file:${log}`,
    ], { stdio: 'ignore' });
    const started = Date.now();
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      resolve(ok);
    };
    const timer = setInterval(() => {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (/Linux version/.test(text)) finish(true);
      else if (Date.now() - started > PROBE_MS) finish(false);
    }, 250);
    child.once('exit', () => {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      finish(/Linux version/.test(text));
    });
  });
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
