/** Shared by the SSH integration tests: targets for hosts of a real sshd fleet, and temp dirs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../../src/connection/target.js';
import { FLEET_ADMIN_USER, type FleetHost, type SshdFleet } from '../../../src/lab/sshd-fleet.js';

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `rg-${label}-`));
}

/** A strict target for one fleet host as the sudo user, key file auth only (no agent). */
export function hostTarget(fleet: SshdFleet, host: FleetHost, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: FLEET_ADMIN_USER,
    identityFiles: [fleet.clientKey],
    agentSocket: '',
    knownHostsFiles: [fleet.knownHosts],
    hostKeyPolicy: 'strict',
    become: false,
    connectTimeoutMs: 10_000,
    ...overrides,
  };
}
