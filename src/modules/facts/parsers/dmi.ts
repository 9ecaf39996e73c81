/** DMI identity (`grep -H . /sys/class/dmi/id/{sys_vendor,product_name,...}`): the host's hardware kind. */

export interface Dmi {
  vendor: string | null;
  productName: string | null;
  productVersion: string | null;
  boardName: string | null;
}

export function parseDmi(text: string): Dmi {
  const v: Record<string, string> = {};
  for (const m of text.matchAll(/dmi\/id\/(\w+):(.*)$/gm)) v[m[1]!] = m[2]!.trim();
  const val = (k: string) => (v[k] && !/^(To be filled|Default string|System Product Name|Not Specified)/i.test(v[k]!) ? v[k]! : v[k] ?? null);
  return { vendor: val('sys_vendor'), productName: val('product_name'), productVersion: val('product_version'), boardName: val('board_name') };
}

/** `Dell Inc. PowerEdge R750`: what canaries group hosts by. */
export function hardwareKind(d: Dmi): string | null {
  const parts = [d.vendor, d.productName].filter((s): s is string => !!s);
  return parts.length ? parts.join(' ') : null;
}
