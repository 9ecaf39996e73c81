/**
 * Can a GRUB one-shot be trusted on this host? Everything is read in one round trip (facts script), then judged
 * by a pure function. The traps: GRUB cannot write grubenv on LVM, mdraid, LUKS, btrfs or ZFS, so `next_entry`
 * is never cleared and the trial boots again after every reset; GRUB_DEFAULT other than `saved` ignores the
 * frozen default; GRUB_SAVEDEFAULT makes the trial the default the moment GRUB starts it; Ubuntu's recordfail
 * makes GRUB wait at the menu forever after a failed boot, where a power reset cannot help; a grubenv grub-editenv
 * cannot open for writing (chattr +i or +a, a read-only mount) would fail the freeze after it has begun.
 */
import { sh, raw, type ShellFragment } from '../connection/shell-quote.js';
import type { HostRoot } from '../modules/host-root.js';
import { entryForRelease, parseGrubMenu } from '../modules/boot/grub-menu.js';
import { recordfailWaitsForever } from '../modules/boot/grub-settings.js';

export { recordfailWaitsForever } from '../modules/boot/grub-settings.js';
import type { PreflightProblem, PreflightResult } from './trial-boot.js';

/** Tools the one-shot needs, by role; the first name found wins (Debian names, then Fedora's grub2-*). */
export const GRUB_TOOLS = {
  editenv: ['grub-editenv', 'grub2-editenv'],
  reboot: ['grub-reboot', 'grub2-reboot'],
  setDefault: ['grub-set-default', 'grub2-set-default'],
  mkconfig: ['update-grub', 'grub-mkconfig', 'grub2-mkconfig'],
  probe: ['grub-probe', 'grub2-probe'],
} as const;

export type GrubToolRole = keyof typeof GRUB_TOOLS;
export type GrubToolPaths = Partial<Record<GrubToolRole, string>>;

export function pickGrubTools(found: Record<string, string>): GrubToolPaths {
  const out: GrubToolPaths = {};
  for (const [role, names] of Object.entries(GRUB_TOOLS) as Array<[GrubToolRole, readonly string[]]>) {
    const name = names.find((n) => found[n]);
    if (name) out[role] = found[name];
  }
  return out;
}

const CFG_MARK = 'RG:cfg-begin';

/** One script printing `RG:key=value` lines, then the grub.cfg after a marker. */
export function grubFactsScript(hr: HostRoot, tools: GrubToolPaths): ShellFragment {
  const R = hr.root === '/' ? '' : hr.root;
  const probe = tools.probe ?? '';
  return sh`R=${R}; PROBE=${probe}; [ -n "$R" ] && export ROLLGATE_ROOT="$R"
p() { printf 'RG:%s=%s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ')"; }
rel=$(cat "$R/proc/sys/kernel/osrelease" 2>/dev/null || uname -r); p release "$rel"
p cmdline "$(cat "$R/proc/cmdline")"
gd=; for d in /boot/grub /boot/grub2; do if [ -f "$R$d/grub.cfg" ]; then gd=$d; break; fi; done; p grubdir "$gd"
( exec 2>/dev/null; GRUB_DEFAULT=; GRUB_SAVEDEFAULT=; unset GRUB_RECORDFAIL_TIMEOUT
  [ -f "$R/etc/default/grub" ] && . "$R/etc/default/grub"
  for f in "$R"/etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done
  printf 'RG:grub_default=%s\\nRG:grub_savedefault=%s\\nRG:recordfail_timeout=%s\\n' "$GRUB_DEFAULT" "$GRUB_SAVEDEFAULT" "\${GRUB_RECORDFAIL_TIMEOUT-unset}" ) </dev/null
if [ -n "$gd" ]; then
  [ -n "$PROBE" ] && { p abstraction "$($PROBE --target=abstraction "$R$gd" 2>/dev/null)"; p fs "$($PROBE --target=fs "$R$gd" 2>/dev/null)"; }
  p mount "$(findmnt -n -o FSTYPE,SOURCE -T "$R$gd" 2>/dev/null)"
  if [ -f "$R$gd/grubenv" ]; then p grubenv_size "$(wc -c < "$R$gd/grubenv")"; else p grubenv_size absent; fi
  # grub-editenv opens grubenv for writing (O_TRUNC): so does this (read-write, nothing truncated or written).
  if [ -f "$R$gd/grubenv" ] && ! ( exec 3<>"$R$gd/grubenv" ) 2>/dev/null; then
    p grubenv_unwritable "$( ( exec 3<>"$R$gd/grubenv" ) 2>&1 | sed 's/.*: //')"
    p grubenv_attrs "$(lsattr -d "$R$gd/grubenv" 2>/dev/null | cut -d' ' -f1)"
    p grubenv_mountpoint "$(findmnt -n -o TARGET -T "$R$gd" 2>/dev/null)"
  fi
fi
p boot_avail_kb "$(df -P -k "$R/boot" 2>/dev/null | awk 'NR==2 {print $4}')"
for f in "/boot/vmlinuz-$rel" "/boot/initrd.img-$rel" "/boot/initramfs-$rel.img"; do [ -f "$R$f" ] && p "size:$f" "$(wc -c < "$R$f")"; done
p rollgate_dir "$( [ -e "$R/boot/rollgate" ] && echo present || echo absent)"
echo ${raw(CFG_MARK)}
[ -n "$gd" ] && cat "$R$gd/grub.cfg"
true`;
}

export interface GrubFacts {
  values: Record<string, string>;
  grubCfg: string;
}

export function parseGrubFacts(stdout: string): GrubFacts {
  const at = stdout.indexOf(`${CFG_MARK}\n`);
  const head = at >= 0 ? stdout.slice(0, at) : stdout;
  const values: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const m = /^RG:([^=]+)=(.*)$/.exec(line);
    if (m) values[m[1] as string] = (m[2] as string).trim();
  }
  return { values, grubCfg: at >= 0 ? stdout.slice(at + CFG_MARK.length + 1) : '' };
}

/** Why grub-editenv cannot write grubenv (immutable, append-only, a read-only mount ...) and what undoes it. */
export function unwritableGrubenv(path: string, v: Record<string, string>): { message: string; hint: string } {
  const why = v.grubenv_unwritable || 'cannot be opened for writing';
  const attrs = (v.grubenv_attrs ?? '').replace(/-/g, '');
  const effect = 'grub-editenv cannot write it, so neither the known-good default nor the one-shot trial can be set';
  if (attrs.includes('i'))
    return {
      message: `${path} is immutable (chattr +i; ${why}): ${effect}`,
      hint: `chattr -i ${path}, once you know why it was set`,
    };
  if (attrs.includes('a'))
    return {
      message: `${path} is append-only (chattr +a; ${why}): ${effect}`,
      hint: `chattr -a ${path}, once you know why it was set`,
    };
  if (/read-only/i.test(why))
    return {
      message: `${path} is on a read-only mount (${why}): ${effect}`,
      hint: `mount -o remount,rw ${v.grubenv_mountpoint || '/boot'} (and make it rw in /etc/fstab)`,
    };
  return { message: `${path} cannot be opened for writing (${why}): ${effect}`, hint: `make ${path} writable by root` };
}

const FIX_BOOT = 'put /boot on a plain partition (ext4/xfs/vfat), or change this host by hand';

/** Judge the facts. `resuming`: the host may be on rollgate's fallback entry already (a run being resumed). */
export function evaluateGrubPreflight(
  f: GrubFacts,
  tools: GrubToolPaths,
  opts: { resuming?: boolean } = {},
): PreflightResult {
  const v = f.values;
  const problems: PreflightProblem[] = [];
  const add = (check: string, message: string, hint: string) => problems.push({ check, message, hint });
  if (!v.grubdir) {
    add(
      'bootloader',
      'no grub.cfg under /boot/grub or /boot/grub2',
      'rollgate can only trial-boot through GRUB for now (systemd-boot one-shot is planned)',
    );
    return { ok: false, problems, facts: v };
  }
  for (const role of ['editenv', 'reboot', 'setDefault', 'mkconfig'] as const) {
    if (!tools[role])
      add(
        `tool:${role}`,
        `${GRUB_TOOLS[role].join(' / ')} not found`,
        'install the GRUB user tools (grub2-common on Debian, grub2-tools on Fedora)',
      );
  }
  if (v.grub_default !== 'saved') {
    add(
      'grub_default',
      `GRUB_DEFAULT is ${JSON.stringify(v.grub_default ?? '')}, not saved`,
      'set GRUB_DEFAULT=saved in /etc/default/grub and run update-grub (or run a play with `boot_default: {}` first; `rollgate undo` reverts it): rollgate keeps the known-good entry as the saved default',
    );
  }
  if (v.grub_savedefault === 'true') {
    add(
      'grub_savedefault',
      'GRUB_SAVEDEFAULT=true makes any entry GRUB boots the new default, the trial included',
      'remove GRUB_SAVEDEFAULT from /etc/default/grub and run update-grub (or run a play with `boot_default: {}` first)',
    );
  }
  const abstraction = (v.abstraction ?? '').split(/\s+/).filter((a) => /lvm|diskfilter|raid|crypt|luks/i.test(a));
  if (abstraction.length) {
    add(
      'grubenv_device',
      `grubenv is on ${abstraction.join('+')}: GRUB cannot write it at boot, so grub-reboot's one-shot would never be cleared`,
      FIX_BOOT,
    );
  }
  const fs = v.fs || (v.mount ?? '').split(/\s+/)[0] || '';
  if (/^(btrfs|zfs)$/.test(fs))
    add('grubenv_fs', `grubenv is on ${fs}: GRUB cannot write it at boot, so the one-shot would stick`, FIX_BOOT);
  if (!v.abstraction && /^\/dev\/(mapper\/|md)/.test((v.mount ?? '').split(/\s+/)[1] ?? '')) {
    add(
      'grubenv_device',
      `grubenv is on ${(v.mount ?? '').split(/\s+/)[1]} (device-mapper or mdraid): GRUB cannot write it at boot`,
      FIX_BOOT,
    );
  }
  if (v.grubenv_size && v.grubenv_size !== 'absent' && v.grubenv_size !== '1024') {
    add(
      'grubenv',
      `grubenv is ${v.grubenv_size} bytes, not GRUB's 1024-byte block`,
      'recreate it: grub-editenv /boot/grub/grubenv create',
    );
  }
  if (v.grubenv_unwritable !== undefined) {
    const u = unwritableGrubenv(`${v.grubdir}/grubenv`, v);
    add('grubenv_writable', u.message, u.hint);
  }
  if (!/save_env next_entry/.test(f.grubCfg)) {
    add(
      'next_entry',
      'grub.cfg never clears next_entry at boot (no `save_env next_entry`): a one-shot would stick',
      "regenerate grub.cfg with the distribution's 00_header (update-grub)",
    );
  }
  if (recordfailWaitsForever(f.grubCfg, v.recordfail_timeout)) {
    add(
      'recordfail',
      'after a failed boot GRUB would wait at its menu forever (recordfail, GRUB_RECORDFAIL_TIMEOUT unset or -1): a power reset would not bring the host back',
      'set GRUB_RECORDFAIL_TIMEOUT=5 in /etc/default/grub and run update-grub (or run a play with `boot_default: {}` first)',
    );
  }
  const release = v.release ?? '';
  const entry = entryForRelease(parseGrubMenu(f.grubCfg), release);
  if (!entry)
    add(
      'running_entry',
      `grub.cfg has no normal entry for the running kernel ${release}: there is nothing to freeze`,
      'reboot into a kernel that has an entry, or run update-grub',
    );
  const kernelSize = Number(v[`size:/boot/vmlinuz-${release}`] ?? NaN);
  const initrdSize = Number(v[`size:/boot/initrd.img-${release}`] ?? v[`size:/boot/initramfs-${release}.img`] ?? NaN);
  if (Number.isNaN(kernelSize) || Number.isNaN(initrdSize)) {
    add(
      'running_files',
      `the running kernel's image or initramfs is missing from /boot (${release})`,
      'reinstall the running kernel package so its files are in /boot',
    );
  } else if (Number(v.boot_avail_kb ?? 0) * 1024 < 2 * (kernelSize + initrdSize) + 16 * 1024 * 1024) {
    add(
      'boot_space',
      `/boot has ${v.boot_avail_kb} KiB free; the known-good copies and a rebuilt initramfs need about ${Math.ceil((2 * (kernelSize + initrdSize)) / 1024 / 1024) + 16} MiB`,
      'remove old kernels (apt autoremove) to make room in /boot',
    );
  }
  // Booted from a frozen copy whose run has finished (rolled back: the copies are gone, the normal entry is the
  // default again) is a known-good state like any other; only an unfinished run's leftovers refuse the host.
  if (!opts.resuming && v.rollgate_dir === 'present') {
    if (/(?:^|\s)BOOT_IMAGE=\S*\/rollgate\//.test(v.cmdline ?? '')) {
      add(
        'on_fallback',
        "the host is running rollgate's frozen known-good entry of a run that has not finished",
        'finish that run first (`rollgate resume RUN`), then start again',
      );
    } else {
      add(
        'leftover',
        '/boot/rollgate exists: an earlier run did not finish on this host',
        'finish or undo that run (`rollgate resume RUN` / `rollgate undo RUN`)',
      );
    }
  }
  return { ok: problems.length === 0, problems, facts: v };
}
