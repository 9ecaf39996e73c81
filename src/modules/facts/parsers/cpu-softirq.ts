/**
 * Softirq load per CPU, the first guide's "is softirq piling up on one CPU" evidence:
 * - `/proc/softirqs` (counts per softirq type per CPU, cumulative since boot);
 * - two `/proc/stat` samples -> share of each CPU's time spent in softirq over the window (what mpstat %soft shows);
 * - pasted `mpstat -P ALL` output (the %soft column).
 */

export interface Softirqs {
  cpus: number;
  /** Per type (`NET_RX`, `BLOCK`, ...), one cumulative count per CPU. */
  counts: Record<string, number[]>;
}

export function parseSoftirqs(text: string): Softirqs {
  let cpus = 0;
  const counts: Record<string, number[]> = {};
  for (const raw of text.split('\n')) {
    if (/^\s*CPU\d+/.test(raw)) {
      cpus = raw.trim().split(/\s+/).length;
      continue;
    }
    const m = /^\s*([A-Z_]+):\s+([\d\s]+)$/.exec(raw);
    if (m) counts[m[1]!] = m[2]!.trim().split(/\s+/).map(Number);
  }
  return { cpus, counts };
}

export interface CpuTimes {
  /** `cpu0` ... ; the `cpu` total row is left out. */
  cpu: string;
  softirq: number;
  total: number;
}

export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const m of text.matchAll(/^(cpu\d+)\s+([\d\s]+)$/gm)) {
    const v = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal [guest guest_nice are already in user/nice]
    out.push({ cpu: m[1]!, softirq: v[6] ?? 0, total: v.slice(0, 8).reduce((a, b) => a + b, 0) });
  }
  return out;
}

/** Percent of each CPU's time in softirq between two /proc/stat samples. */
export interface SoftirqShare {
  cpu: string;
  softPct: number;
}

export function softirqShare(before: CpuTimes[], after: CpuTimes[]): SoftirqShare[] {
  return after.flatMap((a) => {
    const b = before.find((x) => x.cpu === a.cpu);
    const dt = b ? a.total - b.total : 0;
    return b && dt > 0 ? [{ cpu: a.cpu, softPct: Math.round(((a.softirq - b.softirq) / dt) * 1000) / 10 }] : [];
  });
}

/** `mpstat -P ALL` rows -> %soft per CPU (the `all` row left out). */
export function parseMpstat(text: string): SoftirqShare[] {
  let col = -1;
  const out: SoftirqShare[] = [];
  for (const raw of text.split('\n')) {
    const t = raw.trim().split(/\s+/);
    const cpuAt = t.indexOf('CPU');
    if (cpuAt >= 0 && t.includes('%soft')) {
      col = t.indexOf('%soft') - cpuAt;
      continue;
    }
    if (col < 0 || /^Average/.test(raw)) continue;
    const i = t.findIndex((x, k) => k > 0 && /^(all|\d+)$/.test(x) && !/^\d\d:/.test(x));
    if (i < 0 || t[i] === 'all') continue;
    const v = Number(t[i + col]);
    if (!Number.isNaN(v)) out.push({ cpu: `cpu${t[i]}`, softPct: v });
  }
  return out;
}
