/**
 * DMI identity (`grep -H . /sys/class/dmi/id/{sys_vendor,product_name,...}`, or the `dmidecode -t system` /
 * `-t baseboard` text operators paste): the host's hardware kind.
 */

export interface Dmi {
  vendor: string | null;
  productName: string | null;
  productVersion: string | null;
  boardName: string | null;
}

/** dmidecode's section title and field -> the sysfs name of the same value. */
const DMIDECODE_FIELDS: Record<string, Record<string, string>> = {
  'System Information': { Manufacturer: 'sys_vendor', 'Product Name': 'product_name', Version: 'product_version' },
  'Base Board Information': { 'Product Name': 'board_name' },
};

function dmidecodeValues(text: string): Record<string, string> {
  const v: Record<string, string> = {};
  let section: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) section = DMIDECODE_FIELDS[line.trim()];
    const m = /^\s+([^:]+):\s*(.*)$/.exec(line);
    const key = m && section?.[m[1]!.trim()];
    if (key) v[key] = m[2]!.trim();
  }
  return v;
}

export function parseDmi(text: string): Dmi {
  const v: Record<string, string> = {};
  for (const m of text.matchAll(/dmi\/id\/(\w+):(.*)$/gm)) v[m[1]!] = m[2]!.trim();
  if (!Object.keys(v).length) Object.assign(v, dmidecodeValues(text));
  const val = (k: string) =>
    v[k] && !/^(To be filled|Default string|System Product Name|Not Specified)/i.test(v[k]!) ? v[k]! : (v[k] ?? null);
  return {
    vendor: val('sys_vendor'),
    productName: val('product_name'),
    productVersion: val('product_version'),
    boardName: val('board_name'),
  };
}

/** `Dell Inc. PowerEdge R750`: what canaries group hosts by. */
export function hardwareKind(d: Dmi): string | null {
  const parts = [d.vendor, d.productName].filter((s): s is string => !!s);
  return parts.length ? parts.join(' ') : null;
}
