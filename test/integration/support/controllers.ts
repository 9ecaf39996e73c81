/**
 * Several controllers of one fleet in the integration tests (the PostgreSQL journal's): each its own HOME, and one
 * inventory of sshd hosts whose boot is the fake-boot double over their throwaway roots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLEET_ADMIN_USER, type SshdFleet } from '../../../src/lab/sshd-fleet.js';

const FAKE_BOOT = new URL('../../fixtures/trial-boot/fake-boot', import.meta.url).pathname;

/** A controller's own home under `dir`: HOME and XDG_STATE_HOME there, so nothing of another controller's is at hand. */
export function controllerEnv(dir: string, name: string): NodeJS.ProcessEnv {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  return { HOME: home, XDG_STATE_HOME: join(home, 'state'), ROLLGATE_JOURNAL: '', ROLLGATE_FLEET_LOCK_URL: '' };
}

/** `dir`/hosts.yml: the fleet's hosts, host i on `roots[i]` with the fake-boot double as its reboot command. */
export function fakeBootInventory(dir: string, fleet: SshdFleet, roots: readonly string[]): string {
  const file = join(dir, 'hosts.yml');
  const hosts = fleet.hosts
    .map(
      (h, i) =>
        `    ${h.name}:\n      ansible_port: ${h.port}\n      rollgate_root: ${roots[i]}\n      rollgate_reboot_command: ${FAKE_BOOT} ${roots[i]}\n`,
    )
    .join('');
  writeFileSync(
    file,
    `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${FLEET_ADMIN_USER}\n    ansible_ssh_private_key_file: ${fleet.clientKey}\n    rollgate_known_hosts_file: ${fleet.knownHosts}\n  hosts:\n${hosts}`,
  );
  return file;
}
