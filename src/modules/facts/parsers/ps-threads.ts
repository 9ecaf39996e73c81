/**
 * QEMU, vhost and ksoftirqd threads with the CPU they last ran on, from `ps -eLo pid=,tid=,psr=,pcpu=,comm=`
 * (what our script runs) or a pasted `ps -eo pid,comm,pcpu,psr,...` table with or without its header.
 * Thread names with spaces (`CPU 0/KVM`) are kept whole.
 */

export type ThreadRole = 'vcpu' | 'qemu' | 'vhost' | 'ksoftirqd' | 'other';

export interface ThreadSample {
  pid: number;
  tid: number | null;
  /** CPU the thread last ran on (`psr`). */
  cpu: number;
  /** %CPU as ps computes it (lifetime average). */
  pcpu: number;
  name: string;
  role: ThreadRole;
}

export function threadRole(name: string): ThreadRole {
  if (/^CPU \d+\/KVM$/.test(name)) return 'vcpu';
  if (/^vhost-\d+/.test(name)) return 'vhost';
  if (/^ksoftirqd\/\d+/.test(name)) return 'ksoftirqd';
  if (/^qemu|^kvm$|^qemu-kvm/.test(name)) return 'qemu';
  return 'other';
}

/** What our collection script asks ps for. */
const OUR_COLUMNS = ['pid', 'tid', 'psr', 'pcpu', 'comm'];
/** The first guide's `ps -eo pid,comm,pcpu,psr,cls,rtprio,pri,ni,stat`, pasted without its header. */
const GUIDE_COLUMNS = ['pid', 'comm', 'pcpu', 'psr', 'cls', 'rtprio', 'pri', 'ni', 'stat'];

export function parsePsThreads(text: string): ThreadSample[] {
  let columns: string[] | null = null;
  const out: ThreadSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const t = line.split(/\s+/);
    if (/^(PID|TID|LWP)$/i.test(t[0]!)) {
      columns = t.map((c) =>
        c
          .toLowerCase()
          .replace(/^%cpu$/, 'pcpu')
          .replace(/^(lwp|spid)$/, 'tid')
          .replace(/^command$/, 'comm'),
      );
      continue;
    }
    if (!/^\d+$/.test(t[0]!)) continue;
    const cols =
      columns ?? (/^\d+$/.test(t[1] ?? '') ? OUR_COLUMNS : t.length >= 9 ? GUIDE_COLUMNS : GUIDE_COLUMNS.slice(0, 4));
    const commAt = cols.indexOf('comm');
    // comm may contain spaces: it takes what the other columns leave.
    const after = cols.length - commAt - 1;
    const name = t.slice(commAt, t.length - after).join(' ');
    const field = (c: string): string | undefined => {
      const i = cols.indexOf(c);
      if (i < 0) return undefined;
      return i < commAt ? t[i] : t[t.length - (cols.length - i)];
    };
    const cpu = Number(field('psr'));
    const pcpu = Number(field('pcpu'));
    if (Number.isNaN(cpu) || Number.isNaN(pcpu)) continue;
    const tid = field('tid');
    out.push({
      pid: Number(t[0]),
      tid: tid === undefined ? null : Number(tid),
      cpu,
      pcpu,
      name,
      role: threadRole(name),
    });
  }
  return out;
}
