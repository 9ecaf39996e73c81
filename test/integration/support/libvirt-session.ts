/**
 * A real libvirt for the sshd fleet's tests: libvirtd in session mode as the fleet's plain user, in its own
 * XDG directories, reached by root (the fleet's become user) through `qemu:///session?socket=…`. Its guests are
 * real QEMU processes (TCG) with no disk and no OS: SeaBIOS finds nothing to boot and idles, which is what a
 * drain needs (they run, they are stopped, they start again) and costs almost no CPU. Such a guest ignores an
 * ACPI shutdown, so a drain of it reaches its timeout (then `destroy` or fail): a graceful shutdown needs a guest
 * OS, which the lab VMs have, not this.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_PLAIN_USER } from '../../../src/lab/sshd-fleet.js';

export interface LibvirtSession {
  uri: string;
  /** virsh against this daemon, as root; throws on a non-zero exit. */
  virsh(...args: string[]): string;
  /** Define and start a guest without disk or OS. */
  startIdleGuest(name: string): void;
  /** The QEMU process id of a running guest. */
  qemuPid(name: string): number | null;
  stop(): void;
}

const uidOf = (user: string) => Number(execFileSync('id', ['-u', user]).toString().trim());
const gidOf = (user: string) => Number(execFileSync('id', ['-g', user]).toString().trim());

export async function startLibvirtSession(user = FLEET_PLAIN_USER): Promise<LibvirtSession> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-libvirt-'));
  const env = {
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
  for (const d of [dir, ...Object.values(env), join(env.XDG_CONFIG_HOME, 'libvirt')]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    chownSync(d, uidOf(user), gidOf(user));
  }
  const conf = join(env.XDG_CONFIG_HOME, 'libvirt', 'libvirtd.conf');
  writeFileSync(conf, `log_outputs = "3:file:${join(dir, 'libvirtd.log')}"\n`);
  chownSync(conf, uidOf(user), gidOf(user));
  const started = spawnSync(
    'runuser',
    ['-u', user, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'libvirtd', '--daemon'],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  if (started.status !== 0) throw new Error(`libvirtd did not start: ${started.stderr}`);
  const sock = join(env.XDG_RUNTIME_DIR, 'libvirt', 'libvirt-sock');
  const uri = `qemu:///session?socket=${sock}`;
  const virsh = (...args: string[]) =>
    execFileSync('virsh', ['-q', '-c', uri, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(sock)) throw new Error(`libvirtd made no socket at ${sock}`);
  const pidFile = join(env.XDG_RUNTIME_DIR, 'libvirt', 'libvirtd.pid');
  return {
    uri,
    virsh,
    startIdleGuest(name) {
      const xml = join(dir, `${name}.xml`);
      writeFileSync(
        xml,
        `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>` +
          `<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>\n`,
      );
      virsh('define', xml);
      virsh('start', name);
    },
    qemuPid(name) {
      const f = join(env.XDG_CONFIG_HOME, 'libvirt', 'qemu', 'run', `${name}.pid`);
      const alt = join(env.XDG_RUNTIME_DIR, 'libvirt', 'qemu', 'run', `${name}.pid`);
      for (const p of [alt, f]) if (existsSync(p)) return Number(readFileSync(p, 'utf8').trim()) || null;
      return null;
    },
    stop() {
      try {
        for (const name of virsh('list', '--name').split('\n').filter(Boolean))
          spawnSync('virsh', ['-q', '-c', uri, 'destroy', name], { timeout: 30_000 });
      } catch {
        // the daemon may be gone already
      }
      if (existsSync(pidFile)) spawnSync('kill', [readFileSync(pidFile, 'utf8').trim()]);
      spawnSync('pkill', ['-u', user, '-x', 'virtlogd']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
