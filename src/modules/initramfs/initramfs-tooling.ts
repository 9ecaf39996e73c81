/**
 * The host's initramfs generator, found by looking: initramfs-tools (update-initramfs, lsinitramfs, module list
 * /etc/initramfs-tools/modules, images /boot/initrd.img-RELEASE) or dracut (dracut, lsinitrd, drop-ins in
 * /etc/dracut.conf.d/, images /boot/initramfs-RELEASE.img upstream and on Fedora/RHEL, /boot/initrd.img-RELEASE
 * on Debian and Ubuntu, whose dracut writes next to /boot/vmlinuz-RELEASE under that name). Also the module-list
 * edits both understand.
 */
import type { Connection } from '../../connection/connection.js';
import { sh, raw } from '../../connection/shell-quote.js';
import { findTools, runChecked, toolCommand, type HostRoot } from '../host-root.js';
import { readRemoteFile } from '../host-files.js';
import { normModule, appendLines } from '../vfio/modprobe-conf.js';

export interface InitramfsTooling {
  kind: 'initramfs-tools' | 'dracut';
  /** update-initramfs or dracut. */
  build: string;
  /** lsinitramfs or lsinitrd; null when missing (the module list cannot be proven). */
  list: string | null;
  /** Rooted file rollgate edits to add modules. */
  moduleListFile: string;
  /** How the images in /boot are named: initrd.img-RELEASE, or dracut's upstream initramfs-RELEASE.img. */
  naming: 'initrd.img' | 'initramfs';
}

export const VFIO_MODULES = ['vfio', 'vfio_iommu_type1', 'vfio_pci'] as const;
export const DRACUT_CONF = '/etc/dracut.conf.d/rollgate-vfio.conf';

export async function detectInitramfsTooling(conn: Connection, hr: HostRoot): Promise<InitramfsTooling | null> {
  const t = await findTools(conn, hr, ['update-initramfs', 'lsinitramfs', 'dracut', 'lsinitrd']);
  if (t['update-initramfs']) {
    return {
      kind: 'initramfs-tools',
      build: t['update-initramfs'],
      list: t.lsinitramfs ?? null,
      moduleListFile: hr.path('/etc/initramfs-tools/modules'),
      naming: 'initrd.img',
    };
  }
  if (t.dracut)
    return {
      kind: 'dracut',
      build: t.dracut,
      list: t.lsinitrd ?? null,
      moduleListFile: hr.path(DRACUT_CONF),
      naming: await dracutNaming(conn, hr),
    };
  return null;
}

/**
 * The name dracut gives its images on this host: the one images in /boot already have, else Debian's
 * initrd.img-RELEASE where /etc/debian_version exists (Debian's dracut, 059-4 in bookworm), else upstream's.
 */
async function dracutNaming(conn: Connection, hr: HostRoot): Promise<InitramfsTooling['naming']> {
  const r = await conn.exec(
    sh`B=${hr.path('/boot')}; for f in "$B"/initramfs-*.img; do [ -f "$f" ] && { echo initramfs; exit 0; }; done; for f in "$B"/initrd.img-*; do [ -f "$f" ] && { echo initrd.img; exit 0; }; done; [ -f ${hr.path('/etc/debian_version')} ] && echo initrd.img || echo initramfs`,
  );
  return r.stdout.trim() === 'initrd.img' ? 'initrd.img' : 'initramfs';
}

/** The running kernel release (from /proc, so it follows the host root). */
export async function runningKernel(conn: Connection, hr: HostRoot): Promise<string> {
  const f = await readRemoteFile(conn, hr.path('/proc/sys/kernel/osrelease'));
  return f.exists ? f.content.toString('utf8').trim() : '';
}

/** Host path of the image for a kernel release. */
export function imagePath(t: InitramfsTooling, release: string): string {
  return t.naming === 'initrd.img' ? `/boot/initrd.img-${release}` : `/boot/initramfs-${release}.img`;
}

/** Rebuild for one release or 'all'. The same string for the same target, so undo runs it once. */
export function rebuildCommand(hr: HostRoot, t: InitramfsTooling, release: string): string {
  if (t.kind === 'initramfs-tools') return toolCommand(hr, t.build, ['-u', '-k', release]).text;
  return release === 'all'
    ? toolCommand(hr, t.build, ['-f', '--regenerate-all']).text
    : toolCommand(hr, t.build, ['-f', '--kver', release]).text;
}

/**
 * The host's clock as `SECONDS.NANOSECONDS` (exact, as a string: a double cannot hold it). Whole seconds are not
 * enough: an image written earlier in the same second as the check would count as rebuilt since.
 */
export async function hostNow(conn: Connection): Promise<string> {
  const out = (await runChecked(conn, 'date +%s.%N', 'reading the host clock')).trim();
  const m = /^(\d+)(\.\d+)?/.exec(out);
  if (!m) throw new Error(`reading the host clock: date printed ${JSON.stringify(out.slice(0, 40))}`);
  return m[1]! + (m[2] ?? '');
}

/**
 * Undo's rebuild for a change to what goes into the initramfs (modprobe.d, module lists): rebuild only the
 * images regenerated since `sinceEpoch` (the change's check time, host clock). An image nobody rebuilt, or one
 * the initramfs step copied back (cp -p keeps its old time), never held the change and stays byte for byte.
 */
export function rebuildIfNewerCommand(hr: HostRoot, t: InitramfsTooling, sinceEpoch: string): string {
  const since = `@${sinceEpoch}`;
  if (t.kind === 'initramfs-tools') {
    const build = toolCommand(hr, t.build, ['-u', '-k', raw('"$k"')]);
    return sh`for i in ${hr.path('/boot')}/initrd.img-*; do [ -f "$i" ] || continue; k=\${i##*/initrd.img-}; if [ -n "$(find "$i" -newermt ${since} 2>/dev/null)" ]; then ${build} || exit 1; fi; done`
      .text;
  }
  const build = toolCommand(hr, t.build, ['-f', '--kver', raw('"$k"')]);
  if (t.naming === 'initrd.img')
    return sh`for i in ${hr.path('/boot')}/initrd.img-*; do [ -f "$i" ] || continue; k=\${i##*/initrd.img-}; if [ -n "$(find "$i" -newermt ${since} 2>/dev/null)" ]; then ${build} || exit 1; fi; done`
      .text;
  return sh`for i in ${hr.path('/boot')}/initramfs-*.img; do [ -f "$i" ] || continue; k=\${i##*/initramfs-}; k=\${k%.img}; case "$k" in *kdump) continue;; esac; if [ -n "$(find "$i" -newermt ${since} 2>/dev/null)" ]; then ${build} || exit 1; fi; done`
    .text;
}

/** Modules an initramfs-tools list or a dracut drop-in already asks for. */
export function listedModules(t: InitramfsTooling['kind'], text: string | null): Set<string> {
  const out = new Set<string>();
  for (const line of (text ?? '').split('\n')) {
    if (t === 'initramfs-tools') {
      const m = /^\s*([A-Za-z0-9_-]+)/.exec(line);
      if (m && !line.trim().startsWith('#')) out.add(normModule(m[1]!));
    } else {
      const m = /^\s*(?:add_drivers|force_drivers)\s*\+?=\s*["']([^"']*)["']/.exec(line);
      m?.[1]!
        .split(/\s+/)
        .filter(Boolean)
        .forEach((w) => out.add(normModule(w)));
    }
  }
  return out;
}

/** The module list with the missing modules added (text unchanged when none is missing). */
export function addModules(
  t: InitramfsTooling['kind'],
  text: string | null,
  modules: readonly string[],
): string | null {
  const have = listedModules(t, text);
  const missing = modules.filter((m) => !have.has(normModule(m)));
  if (missing.length === 0) return text;
  if (t === 'initramfs-tools') return appendLines(text, missing);
  return appendLines(
    text,
    [`force_drivers+=" ${missing.join(' ')} "`],
    '# Managed by rollgate (vfio_bind): load vfio-pci early so it claims its devices first.',
  );
}

/** Modules inside an image, from lsinitramfs/lsinitrd output (the last field of each line ending in .ko*). */
export function modulesInImage(listing: string): Set<string> {
  const out = new Set<string>();
  for (const line of listing.split('\n')) {
    const path = line.trim().split(/\s+/).pop() ?? '';
    const m = /\/([^/]+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(path);
    if (m) out.add(normModule(m[1]!));
  }
  return out;
}

/** Modules built into the kernel (modules.builtin lists them as paths), which need no initramfs entry. */
export function builtinModules(modulesBuiltin: string): Set<string> {
  return modulesInImage(
    modulesBuiltin
      .split('\n')
      .map((l) => `/${l}`)
      .join('\n'),
  );
}
