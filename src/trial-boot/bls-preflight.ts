/**
 * Can a one-shot be trusted on a GRUB host whose menu comes from BLS entries (Fedora/RHEL, GRUB_ENABLE_BLSCFG=true)?
 * The grubenv traps are GRUB's own (grubenv-checks.ts); on top of them: grub.cfg must build its menu with `blscfg`,
 * and the running kernel needs an entry with literal options (Fedora 30-33 wrote `options $kernelopts`, a grubenv
 * variable a frozen copy could not hold still). Facts come from the GRUB facts script plus the entry files.
 */
import type { Connection } from '../connection/connection.js';
import { blsEntryForRelease, parseBlsEntry, type BlsEntry } from '../modules/boot/bls-entry.js';
import { listRemoteDir, readRemoteFiles } from '../modules/host-files.js';
import { findTools, type HostRoot } from '../modules/host-root.js';
import { grubFactsScript, parseGrubFacts, type GrubFacts } from './grub-preflight.js';
import { grubenvProblems } from './grubenv-checks.js';
import type { PreflightProblem, PreflightResult } from './trial-boot.js';

export const BLS_DIR = '/boot/loader/entries';
/** The ids rollgate writes while it holds a host; never a kernel's own entry. */
export const BLS_OURS = ['rollgate-known-good', 'rollgate-trial'] as const;

export interface BlsTools {
  editenv?: string;
  grubby?: string;
  probe?: string;
}

export interface BlsFacts extends GrubFacts {
  /** The kernels' entries (rollgate's own left out), in file-name order. */
  entries: BlsEntry[];
}

export async function gatherBlsFacts(conn: Connection, hr: HostRoot): Promise<{ facts: BlsFacts; tools: BlsTools }> {
  const found = await findTools(conn, hr, ['grub2-editenv', 'grub-editenv', 'grubby', 'grub2-probe', 'grub-probe']);
  const tools: BlsTools = {
    editenv: found['grub2-editenv'] ?? found['grub-editenv'],
    grubby: found.grubby,
    probe: found['grub2-probe'] ?? found['grub-probe'],
  };
  const r = await conn.exec(grubFactsScript(hr, { probe: tools.probe }));
  const files = await readRemoteFiles(conn, await listRemoteDir(conn, hr.path(BLS_DIR), '*.conf'));
  const entries = files
    .filter((f) => f.exists)
    .map((f) => parseBlsEntry(f.path.split('/').pop() ?? '', f.content.toString('utf8')))
    .filter((e) => !(BLS_OURS as readonly string[]).includes(e.id));
  return { facts: { ...parseGrubFacts(r.stdout), entries }, tools };
}

export function evaluateBlsPreflight(f: BlsFacts, tools: BlsTools, opts: { resuming?: boolean } = {}): PreflightResult {
  const v = f.values;
  const problems: PreflightProblem[] = [];
  const add = (check: string, message: string, hint: string) => problems.push({ check, message, hint });
  if (!v.grubdir) {
    add(
      'bootloader',
      'no grub.cfg under /boot/grub2 or /boot/grub',
      'regenerate it: grub2-mkconfig -o /boot/grub2/grub.cfg',
    );
    return { ok: false, problems, facts: v };
  }
  if (!tools.editenv)
    add(
      'tool:editenv',
      'grub2-editenv / grub-editenv not found',
      'install the GRUB user tools (grub2-tools on Fedora)',
    );
  if (v.blscfg !== 'true' || !/^\s*blscfg\b/m.test(f.grubCfg))
    add(
      'blscfg',
      `grub.cfg does not build its menu from BLS entries (GRUB_ENABLE_BLSCFG=${v.blscfg || 'unset'}, ${/^\s*blscfg\b/m.test(f.grubCfg) ? '' : 'no '}blscfg command in grub.cfg)`,
      'set GRUB_ENABLE_BLSCFG=true in /etc/default/grub and run grub2-mkconfig -o /boot/grub2/grub.cfg',
    );
  const release = v.release ?? '';
  grubenvProblems(f, add, {
    resuming: opts.resuming,
    runningEntry: () => {
      const entry = blsEntryForRelease(f.entries, release);
      if (!entry)
        add(
          'running_entry',
          `no entry in ${BLS_DIR} boots the running kernel ${release}: there is nothing to freeze`,
          'reinstall the running kernel (kernel-install add) or reboot into a kernel that has an entry',
        );
      else if ((entry.fields.options ?? '').includes('$'))
        add(
          'entry_options',
          `${entry.fileName} takes its options from a GRUB variable (${entry.fields.options}): a frozen copy could not keep them`,
          'write the options into the entries: grub2-mkconfig with a current grub2 (Fedora 34+) does, or grubby --update-kernel=ALL --args="..."',
        );
    },
  });
  return { ok: problems.length === 0, problems, facts: v };
}
