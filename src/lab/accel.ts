/**
 * KVM or TCG. /dev/kvm existing is not enough (on some hosts QEMU starts with -accel kvm but the guest never
 * runs), so the probe boots an empty machine under KVM and waits for SeaBIOS to print on its debug port.
 * The verdict is cached for a day.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Accel } from './qemu-args.js';
import type { LabSettings } from './settings.js';

const PROBE_MS = 10_000;

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Boot SeaBIOS under KVM; true when it printed within PROBE_MS. */
export function probeKvm(workDir: string): Promise<boolean> {
  const dir = mkdtempSync(join(workDir, 'kvm-probe-'));
  const log = join(dir, 'debugcon.log');
  return new Promise((resolve) => {
    const child = spawn('qemu-system-x86_64', [
      '-machine', 'q35', '-accel', 'kvm', '-m', '64', '-nodefaults', '-display', 'none',
      '-chardev', `file,id=dbg,path=${log}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
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
      if (/SeaBIOS|Booting from/.test(text)) finish(true);
      else if (Date.now() - started > PROBE_MS) finish(false);
    }, 250);
    child.once('exit', () => {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      finish(/SeaBIOS|Booting from/.test(text));
    });
  });
}

/** The accelerator lab VMs use: the setting, or the (cached) probe's verdict for 'auto'. */
export async function chooseAccel(settings: LabSettings): Promise<Accel> {
  if (settings.accel !== 'auto') return settings.accel;
  if (!kvmUsable()) return 'tcg';
  mkdirSync(settings.cacheDir, { recursive: true });
  const cache = join(settings.cacheDir, 'accel.json');
  if (existsSync(cache) && Date.now() - statSync(cache).mtimeMs < 24 * 3600_000) {
    const { accel } = JSON.parse(readFileSync(cache, 'utf8')) as { accel: Accel };
    if (accel === 'kvm' || accel === 'tcg') return accel;
  }
  const accel: Accel = (await probeKvm(settings.cacheDir)) ? 'kvm' : 'tcg';
  writeFileSync(cache, JSON.stringify({ accel, probedAt: new Date().toISOString() }) + '\n');
  return accel;
}
