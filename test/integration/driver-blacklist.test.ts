import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { driverBlacklist } from '../../src/modules/actions/driver-blacklist.js';
import { moduleContext, useModuleHost } from './support/module-host.js';
import { LAB_PCI, put, rebuildDerived } from './support/fake-root.js';
import { runContract } from './support/module-contract.js';

const host = useModuleHost();

function root(): string {
  return host.root('blacklist', 'debian', { pci: LAB_PCI });
}

describe('driver_blacklist on real sshd hosts', () => {
  it('blacklists GPU drivers in its own modprobe.d file, skipping ones already blacklisted elsewhere', async () => {
    const r = root();
    put(r, 'etc/modprobe.d/blacklist-nouveau.conf', 'blacklist nouveau\noptions nouveau modeset=0\n');
    rebuildDerived(r);
    const { outcome } = await runContract(host.conn, r, driverBlacklist, { drivers: ['nouveau', 'nvidia', 'amdgpu'] });
    expect(outcome.preview.files).toEqual([
      {
        path: join(r, 'etc/modprobe.d/rollgate-blacklist.conf'),
        before: null,
        after:
          '# Managed by rollgate (driver_blacklist): host drivers kept off passthrough devices.\nblacklist nvidia\nblacklist amdgpu\n',
      },
    ]);
    expect(outcome.undo.rebuild).toHaveLength(1);
    expect(outcome.undo.rebuild[0]).toMatch(
      /-newermt @\d+\.\d+ .*ROLLGATE_ROOT=\S+ \S+\/usr\/sbin\/update-initramfs -u -k "\$k"/,
    );
  });

  it('state absent removes the lines wherever they are and keeps the rest of each file', async () => {
    const r = root();
    put(r, 'etc/modprobe.d/blacklist-nouveau.conf', 'blacklist nouveau\noptions nouveau modeset=0\n');
    rebuildDerived(r);
    const { outcome } = await runContract(host.conn, r, driverBlacklist, { drivers: ['nouveau'], state: 'absent' });
    expect(outcome.preview.files.map((f) => f.after)).toEqual(['options nouveau modeset=0\n']);
  });

  it('refuses to blacklist the driver of a network or storage device unless forced', async () => {
    const r = root();
    await expect(
      driverBlacklist.check(moduleContext(host.conn, { rollgate_root: r }), { drivers: ['e1000e', 'nouveau'] }),
    ).rejects.toThrow(/e1000e drives 0000:01:00.0 \(network\).*force: true/);
    await expect(
      driverBlacklist.check(moduleContext(host.conn, { rollgate_root: r }), { drivers: ['ahci'] }),
    ).rejects.toThrow(/\(storage\)/);
    const forced = await driverBlacklist.check(moduleContext(host.conn, { rollgate_root: r }), {
      drivers: ['e1000e'],
      force: true,
    });
    expect(forced.status).toBe('change');
  });
});
