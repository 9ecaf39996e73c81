import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../../src/lab/sshd-fleet.js';
import type { SshConnection } from '../../src/connection/ssh.js';
import type { ActionModule } from '../../src/modules/module.js';
import { actionModules } from '../../src/modules/actions/index.js';
import { kernelArgs } from '../../src/modules/actions/kernel-args.js';
import { vfioBind } from '../../src/modules/actions/vfio-bind.js';
import { driverBlacklist } from '../../src/modules/actions/driver-blacklist.js';
import { initramfs } from '../../src/modules/actions/initramfs.js';
import { kernelPackage } from '../../src/modules/actions/kernel-package.js';
import { reboot } from '../../src/modules/actions/reboot.js';
import { connect, hashTree, moduleContext, removeRoot, startFleet, tempRoot } from './support/module-host.js';
import { buildRoot, LAB_PCI, put } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

let fleet: SshdFleet;
let conn: SshConnection;
let base: string;
let canary: string;
const roots: string[] = [];

/** Every way a value could break out of a shell word: each one would create the canary if it ran. */
const hostile = () => [
  `x'; touch ${canary}; echo '`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `a"b"; touch ${canary} #`,
  `line1\ntouch ${canary}\n`,
  `10de:1e87;touch ${canary}`,
];

function root(label: string, dirName?: string): string {
  const dir = dirName ? join(base, dirName) : tempRoot(label);
  if (dirName) mkdirSync(dir, { recursive: true, mode: 0o755 });
  roots.push(dir);
  buildRoot(dir, 'debian', { pci: LAB_PCI });
  return dir;
}

beforeAll(async () => {
  fleet = await startFleet(1);
  conn = await connect(fleet, 0);
  base = tempRoot('hostile-base');
  canary = join(base, 'CANARY');
});
afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
  roots.forEach(removeRoot);
  removeRoot(base);
});

describe('hostile values through every change module', () => {
  it('refuses hostile option values before running anything, in every module', async () => {
    const r = root('hostile-opts');
    const before = hashTree(r);
    const cases: Array<[ActionModule<any, any>, (v: string) => Record<string, unknown>]> = [
      [kernelArgs, (v) => ({ present: [v] })],
      [kernelArgs, (v) => ({ absent: [v] })],
      [vfioBind, (v) => ({ ids: [v] })],
      [vfioBind, (v) => ({ ids: ['8086:10d3'], allow_group_members: [v] })],
      [driverBlacklist, (v) => ({ drivers: [v] })],
      [initramfs, (v) => ({ kernel: v })],
      [initramfs, (v) => ({ require_modules: [v] })],
      [kernelPackage, (v) => ({ version: v })],
    ];
    for (const [mod, args] of cases) {
      for (const v of hostile()) {
        await expect(mod.check(moduleContext(conn, { rollgate_root: r }), args(v) as never), `${mod.name} ${JSON.stringify(args(v))}`).rejects.toMatchObject({ name: 'ModuleFailure' });
      }
    }
    expect(existsSync(canary)).toBe(false);
    expect(hashTree(r)).toBe(before);
    // Every change module of the registry is covered above or below (reboot: literal reason).
    expect(Object.keys(actionModules).sort()).toEqual(['driver_blacklist', 'initramfs', 'kernel_args', 'kernel_package', 'reboot', 'vfio_bind']);
  });

  it('passes a hostile reboot reason to the host as literal data', async () => {
    const r = root('hostile-reboot');
    const reason = hostile().join(' | ');
    const ctx = { ...moduleContext(conn, { rollgate_root: r, rollgate_reboot_poll_seconds: 0.3 }), reconnect: async () => conn };
    const out = await reboot.check(ctx, { boot_timeout: 20, reason });
    if (out.status !== 'change') throw new Error('expected change');
    await reboot.apply(ctx, { reason }, out.change);
    expect(readFileSync(join(r, 'var/log/rollgate-logger.log'), 'utf8')).toBe(`-t\nrollgate\n--\nreboot: ${reason}\n`);
    expect(existsSync(canary)).toBe(false);
  });

  it('runs every module in a root whose path is full of shell syntax: paths arrive literally, undo is exact', async () => {
    // No '/' fits in a directory name: the payloads touch a file in the executing user's home (or cwd).
    const homeCanaries = ['/root', '/var/lib/rollgate-fleet/rgops', process.cwd(), base].map((d) => join(d, 'rg-hostile-canary'));
    homeCanaries.forEach((c) => rmSync(c, { force: true }));
    const r = root('', `root 'q' "d" $(cd;touch rg-hostile-canary) ; \`cd;touch rg-hostile-canary\` & | *`);
    await runContract(conn, r, kernelArgs, { present: ['intel_iommu=on', 'iommu=pt'] });
    await runContract(conn, r, vfioBind, { ids: ['10de:1e87', '10de:10f8'] });
    await runContract(conn, r, driverBlacklist, { drivers: ['nouveau'] });
    // kernel_package is done once the target runs: the "reboot" is the root's running kernel changing.
    await runContract(conn, r, kernelPackage, { version: '6.1.0-51-test', hold: true }, { exclude: ['proc'], afterApply: () => put(r, 'proc/sys/kernel/osrelease', '6.1.0-51-test\n') });
    expect(existsSync(canary)).toBe(false);
    for (const c of homeCanaries) expect(existsSync(c), c).toBe(false);
  });

  it('refuses a root with a newline, and values hidden in existing files are not evaluated', async () => {
    await expect(kernelArgs.check(moduleContext(conn, { rollgate_root: '/tmp/a\nb' }), { present: ['iommu=pt'] })).rejects.toThrow(/control characters/);
    const r = root('hostile-file');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(r, 'etc/default/grub'), `GRUB_CMDLINE_LINUX="$(touch ${canary})"\n`);
    await expect(kernelArgs.check(moduleContext(conn, { rollgate_root: r }), { present: ['iommu=pt'] })).rejects.toThrow(/command substitution/);
    expect(existsSync(canary)).toBe(false);
    rmSync(canary, { force: true });
  });
});
