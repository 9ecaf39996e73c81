/**
 * Ansible's `serial`: a number, a percentage or a list of them; the last value repeats until every host is in a
 * batch. Percentages are of all hosts the play targets, rounded down, at least 1 (Ansible's `pct_to_int`).
 */

export type SerialValue = number | string;
/** As written in the play: `serial: 2`, `serial: "25%"`, `serial: [1, "10%", "25%"]`. Absent: one batch. */
export type SerialSpec = SerialValue | readonly SerialValue[];

/** Why a serial value is not usable, or null when it is. */
export function serialValueProblem(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? null : `serial ${value} is not a whole number of hosts`;
  }
  if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*%\s*$/.exec(value);
    if (m) return Number(m[1]) <= 100 ? null : `serial ${value} is more than 100%`;
    if (/^\s*\d+\s*$/.test(value)) return null;
    return `serial "${value}" is neither a number nor a percentage`;
  }
  return `serial must be a number, a percentage like "25%" or a list of them, not ${value === null ? 'null' : typeof value}`;
}

/** Ansible's pct_to_int: "x%" of total rounded down (at least 1), else the integer itself. */
export function serialToCount(value: SerialValue, total: number): number {
  if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*%\s*$/.exec(value);
    if (m) return Math.floor((Number(m[1]) / 100) * total) || 1;
    return Number.parseInt(value, 10);
  }
  return Math.trunc(value);
}

/**
 * Split hosts into batches. `total` is the number the percentages are taken of (Ansible: every host of the play;
 * rollgate passes the play's host count even when canaries were taken out first). A count of 0 or less means
 * "all remaining hosts", as in Ansible.
 */
export function planBatches(
  hosts: readonly string[],
  serial: SerialSpec | undefined,
  total = hosts.length,
): string[][] {
  const list: readonly SerialValue[] =
    serial === undefined ? [] : Array.isArray(serial) ? serial : [serial as SerialValue];
  const values = list.length === 0 ? [0] : list;
  const remaining = [...hosts];
  const batches: string[][] = [];
  let item = 0;
  // Each round takes at least one host or all of them, so this ends within hosts.length rounds.
  while (remaining.length > 0) {
    const count = serialToCount(values[item] as SerialValue, total);
    if (count <= 0) {
      batches.push(remaining.splice(0));
      break;
    }
    batches.push(remaining.splice(0, count));
    item = Math.min(item + 1, values.length - 1);
  }
  return batches;
}
