/**
 * The checks every GRUB one-shot shares, whatever writes the menu (grub.cfg menus or BLS entries): grubenv must be
 * writable by GRUB at boot (not on LVM, mdraid, LUKS, btrfs or ZFS) and by grub-editenv now, GRUB_DEFAULT=saved
 * without GRUB_SAVEDEFAULT, grub.cfg clearing next_entry, no recordfail waiting forever, room in /boot for the
 * known-good copies, no unfinished run's leftovers. The caller adds what its menu needs (`runningEntry`).
 */
import { recordfailWaitsForever } from '../modules/boot/grub-settings.js';
import type { GrubFacts } from './grub-preflight.js';

type Add = (check: string, message: string, hint: string) => void;

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

/** Push each problem through `add`, in a fixed order; `runningEntry` checks the running kernel has an entry. */
export function grubenvProblems(
  f: GrubFacts,
  add: Add,
  opts: { resuming?: boolean | undefined; runningEntry: () => void },
): void {
  const v = f.values;
  if (v.grub_default !== 'saved') {
    add(
      'grub_default',
      `GRUB_DEFAULT is ${JSON.stringify(v.grub_default ?? '')}, not saved`,
      'let the rollout prepare it: `rollgate rollout --prepare-boot` (or `rollout: prepare_boot: true` in the play; undone on rollback), or a play with `boot_default: {}` first (`rollgate undo` reverts it), or set GRUB_DEFAULT=saved in /etc/default/grub and run update-grub: rollgate keeps the known-good entry as the saved default',
    );
  }
  if (v.grub_savedefault === 'true') {
    add(
      'grub_savedefault',
      'GRUB_SAVEDEFAULT=true makes any entry GRUB boots the new default, the trial included',
      'let the rollout prepare it (`rollgate rollout --prepare-boot`), or remove GRUB_SAVEDEFAULT from /etc/default/grub and run update-grub',
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
  opts.runningEntry();
  const release = v.release ?? '';
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
}
