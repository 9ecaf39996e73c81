/**
 * The kernels a host has and which one it boots by default: installed releases (/boot/vmlinuz-RELEASE), the
 * running release, and the default boot entry as GRUB (GRUB_DEFAULT, grubenv saved_entry), grubby and systemd-boot
 * (the LoaderEntryDefault EFI variable `bootctl set-default` writes) see it.
 * This is what kernel_package records before it changes anything.
 */
import type { Connection } from '../../connection/connection.js';
import { sh } from '../../connection/shell-quote.js';
import { findTools, toolCommand, type HostRoot } from '../host-root.js';
import { readRemoteFiles, type RemoteFile } from '../host-files.js';
import { readLoaderVarCommand } from '../boot/loader-vars.js';

export const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

/** Compare kernel releases the way people read them: digit runs as numbers (6.1.0-50 > 6.1.0-9). */
export function compareReleases(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function newestRelease(releases: readonly string[]): string | undefined {
  return [...releases].sort(compareReleases).pop();
}

export async function installedReleases(conn: Connection, hr: HostRoot): Promise<string[]> {
  const r = await conn.exec(sh`for f in ${hr.path('/boot')}/vmlinuz-*; do [ -f "$f" ] && basename "$f"; done; true`);
  return r.stdout
    .split('\n')
    .map((l) => l.replace(/^vmlinuz-/, ''))
    .filter((l) => RELEASE.test(l))
    .sort(compareReleases);
}

export interface BootDefault {
  /** GRUB_DEFAULT as /etc/default/grub (and drop-ins) set it, null without GRUB. */
  grubDefault: string | null;
  /** saved_entry from grubenv, null when unset. */
  savedEntry: string | null;
  /** `grubby --default-kernel`, null without grubby. */
  grubbyDefault: string | null;
  /** The boot loader that booted the host (LoaderInfo, "systemd-boot 252.39-1~deb12u1"), null when not told. */
  loaderInfo?: string | null;
  /** LoaderEntryDefault (`bootctl set-default`), null when unset: systemd-boot then picks by its own order. */
  loaderEntryDefault?: string | null;
}

/** grubenv's saved_entry (the file is `key=value` lines padded with '#'). */
export function parseSavedEntry(grubenv: string): string | null {
  return /^saved_entry=(.*)$/m.exec(grubenv)?.[1] ?? null;
}

export function parseGrubDefault(text: string): string | null {
  const m = [...text.matchAll(/^\s*GRUB_DEFAULT=(["']?)([^"'\n]*)\1/gm)].pop();
  return m ? m[2]! : null;
}

export const GRUBENV_PATHS = ['/boot/grub/grubenv', '/boot/grub2/grubenv'];

/** The default boot entry, plus the grubenv files themselves (undo restores them byte for byte). */
export async function readBootDefault(
  conn: Connection,
  hr: HostRoot,
): Promise<{ boot: BootDefault; grubenvFiles: RemoteFile[] }> {
  const [grub, ...envs] = await readRemoteFiles(conn, [
    hr.path('/etc/default/grub'),
    ...GRUBENV_PATHS.map((p) => hr.path(p)),
  ]);
  const env = envs.find((f) => f.exists);
  const grubby = (await findTools(conn, hr, ['grubby'])).grubby;
  const grubbyDefault = grubby
    ? (await conn.exec(toolCommand(hr, grubby, ['--default-kernel']))).stdout.trim() || null
    : null;
  const vars = await conn.exec(
    sh`${readLoaderVarCommand(hr, 'LoaderInfo')}; ${readLoaderVarCommand(hr, 'LoaderEntryDefault')}`,
  );
  const [loaderInfo = '', loaderEntryDefault = ''] = vars.stdout.split('\n').map((l) => l.trim());
  return {
    boot: {
      grubDefault: grub!.exists ? parseGrubDefault(grub!.content.toString('utf8')) : null,
      savedEntry: env?.exists ? parseSavedEntry(env.content.toString('utf8')) : null,
      grubbyDefault,
      loaderInfo: loaderInfo || null,
      loaderEntryDefault: loaderEntryDefault || null,
    },
    grubenvFiles: envs.filter((f) => f.exists),
  };
}
