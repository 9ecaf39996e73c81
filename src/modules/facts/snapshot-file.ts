/** Where a host's snapshot is written on the controller (`rollgate snapshot -o DIR`, the `snapshot` module's dest). */

/** A file name for a host's snapshot: the inventory name with anything but [A-Za-z0-9._@:-] replaced. */
export function snapshotFileName(host: string): string {
  const safe = host.replace(/[^A-Za-z0-9._@:-]/g, '_');
  return `${/^\.+$/.test(safe) ? safe.replace(/\./g, '_') : safe}.json`;
}
