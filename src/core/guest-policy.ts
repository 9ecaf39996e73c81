/**
 * What may happen to a hypervisor's running guests before rollgate reboots it (a `guests:` policy on the reboot
 * task, or a play's `rollout: guests:`): its schema and its reading, shared by the loader, the rollout settings
 * and the drain itself (modules/guests/drain.ts).
 */
export type GuestAction = 'refuse' | 'shutdown';

export interface DrainPolicy {
  /**
   * Guests without a PCI host device: also `migrate` (live, to another host of the same rollgate_cluster that is
   * not in the current batch, the one with the most free memory; `rollgate rollout` only).
   */
  movable: GuestAction | 'migrate';
  /** Guests holding a PCI host device (vfio): they cannot be live-migrated. */
  withDevices: GuestAction;
  /** How long an ACPI shutdown may take per guest, seconds. */
  shutdownTimeoutSec: number;
  /** A guest still running at the timeout: `destroy` it (power it off) or `fail` (stop, start the others again). */
  onTimeout: 'destroy' | 'fail';
  /** Migrated guests come back once the host is committed or rolled back (default false: they stay). */
  returnMigrated: boolean;
  /**
   * `movable: migrate` where no peer can take the guest (no other host of its rollgate_cluster outside its batch,
   * or `rollgate run`): `refuse` the host (the default) or `shutdown` the guest like one that holds a device.
   */
  noPeer: GuestAction;
}

/** The JSON Schema of a `guests:` policy: a word for both kinds, or a mapping. */
export const drainPolicySchema = {
  oneOf: [
    { type: 'string', enum: ['refuse', 'shutdown'] },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        movable: { type: 'string', enum: ['refuse', 'shutdown', 'migrate'] },
        with_devices: { type: 'string', enum: ['refuse', 'shutdown'] },
        shutdown_timeout: { type: 'integer', minimum: 1 },
        on_timeout: { type: 'string', enum: ['destroy', 'fail'] },
        return: { type: 'boolean' },
        no_peer: { type: 'string', enum: ['refuse', 'shutdown'] },
      },
    },
  ],
  description:
    'refuse (the default: running guests stop the reboot), shutdown, or a mapping {movable: refuse|shutdown|migrate, with_devices: refuse|shutdown, shutdown_timeout, on_timeout: destroy|fail, return: true|false, no_peer: refuse|shutdown (a movable guest to migrate with no peer to take it)}',
} as const;

export const DEFAULT_SHUTDOWN_TIMEOUT_SEC = 120;

/** The policy a `guests:` value gives; undefined (nothing said) refuses every running guest. */
export function drainPolicyFrom(value: unknown): DrainPolicy {
  const base: DrainPolicy = {
    movable: 'refuse',
    withDevices: 'refuse',
    shutdownTimeoutSec: DEFAULT_SHUTDOWN_TIMEOUT_SEC,
    onTimeout: 'fail',
    returnMigrated: false,
    noPeer: 'refuse',
  };
  if (value === undefined || value === null) return base;
  if (value === 'refuse' || value === 'shutdown') return { ...base, movable: value, withDevices: value };
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Error(`guests: ${JSON.stringify(value)} is not refuse, shutdown or a mapping`);
  const v = value as Record<string, unknown>;
  const action = (x: unknown, key: string): GuestAction => {
    if (x === undefined) return 'refuse';
    if (x === 'refuse' || x === 'shutdown') return x;
    throw new Error(
      `guests.${key}: write refuse or shutdown${key === 'movable' ? ' or migrate' : ''}, not ${JSON.stringify(x)}`,
    );
  };
  const timeout = v.shutdown_timeout ?? DEFAULT_SHUTDOWN_TIMEOUT_SEC;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1)
    throw new Error('guests.shutdown_timeout: write a whole number of seconds ≥ 1');
  const movable = v.movable === 'migrate' ? 'migrate' : action(v.movable, 'movable');
  if (v.with_devices === 'migrate')
    throw new Error(
      'guests.with_devices: a guest holding a host device cannot be live-migrated; write refuse or shutdown',
    );
  const back = v.return ?? false;
  if (typeof back !== 'boolean') throw new Error('guests.return: write true or false');
  if (v.no_peer !== undefined && v.movable !== 'migrate')
    throw new Error(
      'guests.no_peer: says what happens to a movable guest that cannot migrate; write it with movable: migrate',
    );
  const onTimeout = v.on_timeout ?? 'fail';
  if (onTimeout !== 'destroy' && onTimeout !== 'fail') throw new Error('guests.on_timeout: write destroy or fail');
  return {
    movable,
    withDevices: action(v.with_devices, 'with_devices'),
    shutdownTimeoutSec: timeout,
    onTimeout,
    returnMigrated: back,
    noPeer: action(v.no_peer, 'no_peer'),
  };
}
