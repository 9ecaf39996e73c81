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
import { grubenvProblems } from './grubenv-checks.js';

export { recordfailWaitsForever } from '../modules/boot/grub-settings.js';
export { unwritableGrubenv } from './grubenv-checks.js';
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
( exec 2>/dev/null; GRUB_DEFAULT=; GRUB_SAVEDEFAULT=; GRUB_ENABLE_BLSCFG=; unset GRUB_RECORDFAIL_TIMEOUT
  [ -f "$R/etc/default/grub" ] && . "$R/etc/default/grub"
  for f in "$R"/etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done
  printf 'RG:grub_default=%s\\nRG:grub_savedefault=%s\\nRG:recordfail_timeout=%s\\nRG:blscfg=%s\\n' "$GRUB_DEFAULT" "$GRUB_SAVEDEFAULT" "\${GRUB_RECORDFAIL_TIMEOUT-unset}" "$GRUB_ENABLE_BLSCFG" ) </dev/null
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
      'rollgate trial-boots through GRUB (classic menus or BLS entries) or systemd-boot; this host has neither',
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
  const release = v.release ?? '';
  grubenvProblems(f, add, {
    resuming: opts.resuming,
    runningEntry: () => {
      if (!entryForRelease(parseGrubMenu(f.grubCfg), release))
        add(
          'running_entry',
          `grub.cfg has no normal entry for the running kernel ${release}: there is nothing to freeze`,
          'reboot into a kernel that has an entry, or run update-grub',
        );
    },
  });
  return { ok: problems.length === 0, problems, facts: v };
}
