/**
 * boot_default: make a GRUB host ready for rollgate's one-shot trial boot, as a change like any other (exact
 * `--check --diff` preview, journaled, `rollgate undo` restores the files byte for byte and regenerates grub.cfg):
 * GRUB_DEFAULT=saved (stock Debian and Ubuntu ship 0, which ignores the frozen known-good default),
 * GRUB_SAVEDEFAULT not true (it would make the trial the default the moment GRUB starts it), and on hosts with
 * Ubuntu's recordfail a GRUB_RECORDFAIL_TIMEOUT, so that a failed boot does not wait at the menu forever where a
 * power reset cannot help. What this cannot fix (grubenv on LVM, mdraid, btrfs, ZFS) stays the trial boot's
 * refusal. Changing GRUB_DEFAULT from 0 to saved changes nothing at the next boot: with no saved entry GRUB still
 * boots the first one; from then on a newly installed kernel boots once it is made the default (a rollout does).
 */
import { defineHostModule, type ArgsOf } from '../define-module.js';
import { ModuleFailure, type CheckOutcome } from '../module.js';
import { hostRootFromVars } from '../host-root.js';
import { readRemoteFile, readRemoteFiles } from '../host-files.js';
import { applyFileChange, editableText, planFileChange, type FileChange, type PlannedFile } from '../file-change.js';
import { detectBootTooling } from '../boot/boot-tooling.js';
import type { GrubFile } from '../boot/grub-defaults.js';
import { grubSetting, recordfailWaitsForever, setGrubSetting, type GrubSetting } from '../boot/grub-settings.js';

/** The options, as the schema below describes them. */
export type BootDefaultArgs = ArgsOf<typeof bootDefault.options>;

export type BootDefaultChange = FileChange & {
  grubCfg: string;
  grubFiles: string[];
  set: Partial<Record<GrubSetting, string>>;
};

/** What grub.cfg must hold once regenerated: the saved default read back, no forever-waiting recordfail. */
export function grubCfgProblems(cfg: string, recordfailTimeout: string | undefined): string[] {
  const out: string[] = [];
  if (!/set default="\$\{saved_entry\}"/.test(cfg)) out.push('it does not set the default from saved_entry');
  if (recordfailWaitsForever(cfg, recordfailTimeout)) out.push('after a failed boot it still waits at the menu');
  return out;
}

export const bootDefault = defineHostModule({
  name: 'boot_default',
  description:
    'Make a GRUB host ready for a one-shot trial boot: GRUB_DEFAULT=saved, no GRUB_SAVEDEFAULT, a recordfail that times out; update-grub.',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      recordfail_timeout: {
        type: 'integer',
        minimum: 0,
        maximum: 300,
        default: 5,
        description:
          'seconds the menu waits after a failed boot, set only on hosts whose recordfail would wait forever (Ubuntu)',
      },
    },
  },

  async check(ctx, args): Promise<CheckOutcome<BootDefaultChange>> {
    const hr = hostRootFromVars(ctx.vars);
    const tooling = await detectBootTooling(ctx.conn, hr, 'auto');
    if (!tooling.grubFiles.length || !tooling.grubCfg || !tooling.refresh.length)
      throw new ModuleFailure(
        `boot_default prepares GRUB's defaults file; this host boots through ${tooling.kind}${tooling.kind === 'grubby' ? ' with BLS entries (GRUB_ENABLE_BLSCFG)' : ''}, which has no GRUB_DEFAULT to set`,
      );
    const files = await readRemoteFiles(ctx.conn, tooling.grubFiles);
    const before: GrubFile[] = files.map((f) => ({ path: f.path, text: editableText(f) ?? '' }));
    const cfg = await readRemoteFile(ctx.conn, tooling.grubCfg);
    const set: Partial<Record<GrubSetting, string>> = {};
    let after = before;
    try {
      if (grubSetting(before, 'GRUB_DEFAULT') !== 'saved') set.GRUB_DEFAULT = 'saved';
      if (grubSetting(before, 'GRUB_SAVEDEFAULT') === 'true') set.GRUB_SAVEDEFAULT = 'false';
      const timeout = grubSetting(before, 'GRUB_RECORDFAIL_TIMEOUT');
      const waits = cfg.exists && recordfailWaitsForever(cfg.content.toString('utf8'), timeout);
      if (waits && !(timeout !== undefined && Number(timeout) >= 0))
        set.GRUB_RECORDFAIL_TIMEOUT = String(args.recordfail_timeout ?? 5);
      for (const [name, value] of Object.entries(set) as Array<[GrubSetting, string]>)
        after = setGrubSetting(after, name, value);
      // A timeout already set, but grub.cfg not regenerated since: regenerate it.
      const stale =
        cfg.exists &&
        grubCfgProblems(cfg.content.toString('utf8'), grubSetting(after, 'GRUB_RECORDFAIL_TIMEOUT')).length > 0;
      const planned: PlannedFile[] = files.map((file, i) => {
        const text = after[i]?.text ?? '';
        return { file, after: file.exists || text !== '' ? text : null };
      });
      const changes = Object.entries(set).map(([k, v]) => `${k}=${v}`);
      const outcome = planFileChange({
        summary: changes.length
          ? `GRUB ${changes.join(', ')} via ${tooling.kind}`
          : `GRUB defaults: regenerate ${tooling.grubCfg}`,
        files: planned,
        commands: tooling.refresh,
        alsoBackup: await readRemoteFiles(ctx.conn, tooling.toolWrittenFiles),
        changeWithoutFiles: stale,
        extra: { bootloader: tooling.kind },
      });
      if (outcome.status === 'no_change') return outcome;
      return { ...outcome, change: { ...outcome.change, grubCfg: tooling.grubCfg, grubFiles: tooling.grubFiles, set } };
    } catch (err) {
      if (err instanceof ModuleFailure) throw err;
      throw new ModuleFailure((err as Error).message);
    }
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    const cfg = await readRemoteFile(ctx.conn, change.grubCfg);
    const files = await readRemoteFiles(ctx.conn, change.grubFiles);
    const timeout = grubSetting(
      files.map((f) => ({ path: f.path, text: editableText(f) ?? '' })),
      'GRUB_RECORDFAIL_TIMEOUT',
    );
    const problems = cfg.exists ? grubCfgProblems(cfg.content.toString('utf8'), timeout) : ['it is missing'];
    if (problems.length)
      throw new ModuleFailure(
        `${change.grubCfg} was regenerated, but ${problems.join(' and ')}: a grub.d script may override these settings`,
      );
    const set = Object.entries(change.set).map(([k, v]) => `${k}=${v}`);
    return { message: `${set.length ? set.join(', ') : 'GRUB defaults already right'}; ${change.grubCfg} regenerated` };
  },
});
