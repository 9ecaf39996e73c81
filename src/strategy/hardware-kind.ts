/**
 * Hardware kinds: hosts that should behave alike under a change (the second guide's "canary one host per hardware
 * SKU"). A kind is derived from the snapshot: DMI product name, CPU vendor and the set of passthrough PCI ids.
 */

/** What the kind is computed from; any part may be unknown (null/undefined). */
export interface HardwareKindInput {
  /** DMI product name, e.g. "PowerEdge R750" or "Standard PC (Q35 + ICH9, 2009)". */
  productName?: string | null;
  /** CPU vendor id as /proc/cpuinfo says it: GenuineIntel, AuthenticAMD, ... */
  cpuVendor?: string | null;
  /** vendor:device ids of the host's passthrough devices (order and case do not matter). */
  passthroughIds?: readonly string[] | null;
}

/** A host with its derived kind, in inventory order. */
export interface KindedHost {
  name: string;
  kind: string;
}

function clean(value: string | null | undefined): string {
  const v = (value ?? '').replace(/\s+/g, ' ').trim();
  return v === '' ? '?' : v;
}

/**
 * A stable, readable key: `product / vendor / ids`. Unknown parts become `?`, so hosts whose snapshot lacks a
 * part are grouped together rather than each becoming its own kind (a lone `?` host still gets a canary).
 */
export function hardwareKind(input: HardwareKindInput): string {
  const ids = [
    ...new Set((input.passthroughIds ?? []).map((id) => id.trim().toLowerCase()).filter((id) => id !== '')),
  ].sort();
  return `${clean(input.productName)} / ${clean(input.cpuVendor)} / ${ids.length ? ids.join(',') : 'no passthrough'}`;
}

/** Hosts grouped by kind; kinds in order of their first host, hosts in their given order. */
export function groupByKind(hosts: readonly KindedHost[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const h of hosts) {
    const list = groups.get(h.kind);
    if (list) list.push(h.name);
    else groups.set(h.kind, [h.name]);
  }
  return groups;
}
