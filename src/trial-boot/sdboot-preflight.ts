/**
 * Can a one-shot be trusted on a systemd-boot host? It must have been booted by systemd-boot (LoaderInfo: a host
 * with kernel-install may still boot through GRUB), through UEFI, with the host's `bootctl` to set the EFI
 * variables; the running kernel needs a loader entry (in `$BOOT/loader/entries`, $BOOT being /efi, /boot or
 * /boot/efi) whose files are there to copy, with room beside them on that partition. Facts are read in a few
 * round trips, then judged by a pure function.
 */
import type { Connection } from '../connection/connection.js';
import { sh } from '../connection/shell-quote.js';
import { blsEntryForRelease, parseBlsEntry, type BlsEntry } from '../modules/boot/bls-entry.js';
import { LOADER_VARS, readLoaderVarCommand } from '../modules/boot/loader-vars.js';
import { listRemoteDir, readRemoteFiles } from '../modules/host-files.js';
import { findTools, type HostRoot } from '../modules/host-root.js';
import type { PreflightProblem, PreflightResult } from './trial-boot.js';

/** Where loader entries live, by precedence ($BOOT: the XBOOTLDR partition or the ESP). */
export const BOOT_ROOTS = ['/efi', '/boot', '/boot/efi'] as const;
/** The ids rollgate writes while it holds a host (systemd-boot ids carry `.conf`). */
export const SDBOOT_KNOWN_GOOD = 'rollgate-known-good.conf';
export const SDBOOT_TRIAL = 'rollgate-trial.conf';

export interface SdBootEntry extends BlsEntry {
  /** $BOOT of the entry: the paths inside it are relative to this directory. */
  bootRoot: string;
}

export interface SdBootFacts {
  values: Record<string, string>;
  /** The kernels' entries (rollgate's own left out). */
  entries: SdBootEntry[];
  bootctl?: string;
}

/** systemd-boot's id of an entry file: its name without the boot counter, `.conf` kept. */
export const sdbootId = (e: BlsEntry) => `${e.id}.conf`;
const ours = (e: BlsEntry) => [SDBOOT_KNOWN_GOOD, SDBOOT_TRIAL].includes(sdbootId(e));

export async function gatherSdBootFacts(conn: Connection, hr: HostRoot): Promise<SdBootFacts> {
  const bootctl = (await findTools(conn, hr, ['bootctl'])).bootctl;
  const R = hr.root === '/' ? '' : hr.root;
  const vars = LOADER_VARS.map((name) => sh`printf 'RG:${name}='; ${readLoaderVarCommand(hr, name)}`);
  const script = sh`R=${R}
p() { printf 'RG:%s=%s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ')"; }
rel=$(cat "$R/proc/sys/kernel/osrelease" 2>/dev/null || uname -r); p release "$rel"
p cmdline "$(cat "$R/proc/cmdline")"
p efi "$( [ -d "$R/sys/firmware/efi" ] && echo yes || echo no)"
for b in ${[...BOOT_ROOTS]}; do
  [ -d "$R$b/loader/entries" ] || continue
  p "avail_kb:$b" "$(df -P -k "$R$b" 2>/dev/null | awk 'NR==2 {print $4}')"
  p "rollgate:$b" "$( [ -e "$R$b/rollgate" ] && echo present || echo absent)"
done
true`;
  const r = await conn.exec(script);
  const v = await conn.exec(sh`${vars.reduce((a, b) => sh`${a}; ${b}`)}`);
  const values = parseRg(`${r.stdout}\n${v.stdout}`);
  const entries: SdBootEntry[] = [];
  for (const root of BOOT_ROOTS) {
    const files = await readRemoteFiles(conn, await listRemoteDir(conn, hr.path(`${root}/loader/entries`), '*.conf'));
    for (const f of files.filter((x) => x.exists)) {
      const e = parseBlsEntry(f.path.split('/').pop() ?? '', f.content.toString('utf8'));
      if (!ours(e)) entries.push({ ...e, bootRoot: root });
    }
  }
  const running = blsEntryForRelease(entries, values.release ?? '') as SdBootEntry | undefined;
  if (running) {
    const paths = [running.fields.linux ?? '', ...running.initrd].map((p) => hr.path(`${running.bootRoot}${p}`));
    const sizes = await conn.exec(sh`for f in ${paths}; do [ -f "$f" ] && wc -c < "$f" || echo missing; done`);
    values.running_sizes = sizes.stdout.trim().split(/\s+/).join(' ');
  }
  return { values, entries, ...(bootctl ? { bootctl } : {}) };
}

function parseRg(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^RG:([^=]+)=(.*)$/.exec(line);
    if (m) values[m[1] as string] = (m[2] as string).trim();
  }
  return values;
}

export function evaluateSdBootPreflight(f: SdBootFacts, opts: { resuming?: boolean } = {}): PreflightResult {
  const v = f.values;
  const problems: PreflightProblem[] = [];
  const add = (check: string, message: string, hint: string) => problems.push({ check, message, hint });
  if (!f.bootctl) add('tool:bootctl', 'bootctl not found', 'install systemd-boot (Debian: the systemd-boot package)');
  if (v.efi !== 'yes')
    add(
      'efi',
      'the host did not boot through UEFI (no /sys/firmware/efi)',
      'systemd-boot needs UEFI; use the GRUB driver',
    );
  else if (!/^systemd-boot\b/.test(v.LoaderInfo ?? ''))
    add(
      'loader',
      `the running system was booted by ${v.LoaderInfo ? JSON.stringify(v.LoaderInfo) : 'a boot loader that does not set LoaderInfo'}, not systemd-boot`,
      'boot through systemd-boot (bootctl install), or let the GRUB driver handle this host',
    );
  const release = v.release ?? '';
  const running = blsEntryForRelease(f.entries, release) as SdBootEntry | undefined;
  if (!running) {
    add(
      'running_entry',
      `no loader entry in ${BOOT_ROOTS.map((b) => `${b}/loader/entries`).join(', ')} boots the running kernel ${release}: there is nothing to freeze`,
      `write its entry: kernel-install add ${release} /usr/lib/modules/${release}/vmlinuz`,
    );
  } else {
    const sizes = (v.running_sizes ?? '').split(' ');
    if (sizes.includes('missing') || sizes.length === 0)
      add(
        'running_files',
        `the files of ${running.fileName} are missing under ${running.bootRoot}`,
        `reinstall them: kernel-install add ${release} /usr/lib/modules/${release}/vmlinuz`,
      );
    else {
      const need = 2 * sizes.reduce((a, s) => a + Number(s), 0) + 16 * 1024 * 1024;
      const avail = Number(v[`avail_kb:${running.bootRoot}`] ?? 0) * 1024;
      if (avail < need)
        add(
          'boot_space',
          `${running.bootRoot} has ${Math.floor(avail / 1024)} KiB free; the known-good copies and a rebuilt initrd need about ${Math.ceil(need / 1024 / 1024)} MiB`,
          `remove old kernels to make room on ${running.bootRoot}`,
        );
    }
  }
  const leftover = BOOT_ROOTS.find((b) => v[`rollgate:${b}`] === 'present');
  if (!opts.resuming && leftover) {
    if (v.LoaderEntrySelected === SDBOOT_KNOWN_GOOD)
      add(
        'on_fallback',
        "the host is running rollgate's frozen known-good entry of a run that has not finished",
        'finish that run first (`rollgate resume RUN`), then start again',
      );
    else
      add(
        'leftover',
        `${leftover}/rollgate exists: an earlier run did not finish on this host`,
        'finish or undo that run (`rollgate resume RUN` / `rollgate undo RUN`)',
      );
  }
  return { ok: problems.length === 0, problems, facts: v };
}
