/**
 * Where a host's movable guests may live-migrate during a rollout (the guests policy's `movable: migrate`): its
 * peers of the same rollgate_cluster and the libvirt URI each is reached by.
 */

/**
 * The hosts a host's movable guests may live-migrate to: the play's other hosts of its rollgate_cluster outside its
 * batch (a batch's hosts go down together), with the URI peers reach each one's libvirt by
 * (`rollgate_migrate_uri`, default `qemu+ssh://ADDRESS/system`).
 */
export function migrationPeersOf(
  inventory: { hosts: ReadonlyMap<string, { vars: Record<string, unknown> }> },
  playHosts: readonly string[],
  host: string,
  batchHosts: readonly string[],
): Array<{ name: string; uri: string }> {
  const cluster = inventory.hosts.get(host)?.vars.rollgate_cluster;
  if (typeof cluster !== 'string' || !cluster) return [];
  return playHosts.flatMap((name) => {
    const vars = inventory.hosts.get(name)?.vars;
    if (!vars || name === host || batchHosts.includes(name) || vars.rollgate_cluster !== cluster) return [];
    return [{ name, uri: migrateUriOf(name, vars) }];
  });
}

/** The libvirt URI peers reach NAME's libvirt by: `rollgate_migrate_uri`, default `qemu+ssh://ADDRESS/system`. */
export function migrateUriOf(name: string, vars: Record<string, unknown>): string {
  if (typeof vars.rollgate_migrate_uri === 'string' && vars.rollgate_migrate_uri) return vars.rollgate_migrate_uri;
  const address = [vars.rollgate_host, vars.ansible_host].find((a) => typeof a === 'string' && a) ?? name;
  return `qemu+ssh://${String(address)}/system`;
}
