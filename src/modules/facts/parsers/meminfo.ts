/** Hugepage lines of /proc/meminfo (`HugePages_Total:  4096`, `Hugepagesize:  2048 kB`). */

export interface Hugepages {
  total: number;
  free: number;
  reserved: number;
  surplus: number;
  /** Default hugepage size in kB. */
  sizeKb: number | null;
}

export function parseMeminfoHugepages(text: string): Hugepages | null {
  const v: Record<string, number> = {};
  for (const m of text.matchAll(/^\s*(HugePages_\w+|Hugepagesize):\s*(\d+)/gm)) v[m[1]!] = Number(m[2]);
  if (v.HugePages_Total === undefined) return null;
  return {
    total: v.HugePages_Total,
    free: v.HugePages_Free ?? 0,
    reserved: v.HugePages_Rsvd ?? 0,
    surplus: v.HugePages_Surp ?? 0,
    sizeKb: v.Hugepagesize ?? null,
  };
}
