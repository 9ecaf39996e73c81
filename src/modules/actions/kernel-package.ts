/**
 * kernel_package: make a host run a kernel release — install (and optionally hold) it with apt or dnf, upgrade to
 * the latest, or adopt the newest kernel already installed. The job is the target *running*: a target installed
 * but not running is a change (reboot required) that also makes it the default boot entry (boot-default.ts), except
 * while a staged rollout holds the default (its trial boot arms the target, its commit makes it the default).
 * Installed and running is the only "nothing to change". It records the default entry, the grubenv bytes and the
 * installed kernel set; undo restores grubenv byte for byte, unholds and removes what it installed.
 */
import { defineHostModule, type ArgsOf } from '../define-module.js';

import { ModuleFailure, type ActionModule, type CheckOutcome } from '../module.js';
import { hostRootFromVars } from '../host-root.js';
import { readRemoteFiles, toBackup } from '../host-files.js';
import { applyFileChange, type FileChange } from '../file-change.js';
import { runningKernel } from '../initramfs/initramfs-tooling.js';
import { installedReleases, newestRelease, readBootDefault, RELEASE } from '../kernel/kernel-set.js';
import { detectPackageManager, type PackageManager } from '../kernel/package-manager.js';
import { defaultBoot, sdbootDefaultRestore, type DefaultBoot } from '../kernel/boot-default.js';
import { raw, sh } from '../../connection/shell-quote.js';
import type { HostRoot } from '../host-root.js';
import { runChecked } from '../host-root.js';

/** The options, as the schema below describes them. */
export type KernelPackageArgs = ArgsOf<typeof kernelPackage.options>;

/** `makeDefault`: after installing, make the target the default boot entry (its entry exists only then). */
export type KernelPackageChange = FileChange & { target: string; makeDefault?: boolean };

/** What the default boot entry does for a target that is installed but not running, in words. */
function bootPlan(def: DefaultBoot): string {
  if (def.heldByRollout) return `the trial boot runs it once (a staged rollout holds the default entry)`;
  return def.command
    ? `make it the default boot entry (the default boots ${def.release ?? 'another kernel'} now)`
    : `it is already the default boot entry`;
}

/** Installed, not running: make it the default (unless a rollout holds the default) and ask for the reboot. */
async function bootInstalled(
  ctx: Parameters<ActionModule['check']>[0],
  hr: HostRoot,
  target: string,
  running: string,
  boot: Awaited<ReturnType<typeof readBootDefault>>,
  extra: Record<string, unknown>,
  verb: string,
): Promise<CheckOutcome<KernelPackageChange>> {
  const def = await defaultBoot(ctx.conn, hr, boot.boot, target);
  const commands = def.command ? [def.command] : [];
  return {
    status: 'change',
    change: { createdDirs: [], writes: [], commands, target },
    preview: {
      summary: `${verb} ${target} (installed, running ${running}): ${bootPlan(def)}; reboot to run it`,
      files: [],
      commands,
    },
    undo: {
      files: boot.grubenvFiles.map(toBackup),
      rebuild: [],
      ...(def.command && def.restore ? { restore: [def.restore] } : {}),
      extra,
    },
    rebootRequired: true,
  };
}

/** Whether a hold list names the package (dnf lists `kernel-0:6.5.6-300.fc39.*`). */
export function isHeld(held: readonly string[], pkg: string): boolean {
  return held.some((h) => {
    const bare = h
      .trim()
      .replace(/^([^:]*-)\d+:/, '$1')
      .replace(/\.\*$/, '');
    return bare === pkg || (bare.length > 0 && pkg.startsWith(`${bare}.`));
  });
}

async function packageManager(
  ctx: Parameters<ActionModule['check']>[0],
  root: ReturnType<typeof hostRootFromVars>,
): Promise<PackageManager> {
  const pm = await detectPackageManager(ctx.conn, root);
  if (!pm) throw new ModuleFailure('neither apt-get nor dnf is installed');
  return pm;
}

export const kernelPackage = defineHostModule({
  name: 'kernel_package',
  description:
    'Make the host run a kernel release: install (and optionally hold) it with apt or dnf, or adopt the newest installed one; a target installed but not running becomes the default boot entry and asks for a reboot (a staged rollout boots it once first); installed and running is "nothing to change".',
  changesHost: true,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { type: 'string', description: 'kernel release or package version to install' },
      state: { enum: ['present', 'latest', 'adopt_newest'], default: 'present' },
      hold: { type: 'boolean', default: false },
    },
  },

  async check(ctx, args): Promise<CheckOutcome<KernelPackageChange>> {
    const state = args.state ?? 'present';
    if (args.version !== undefined && !RELEASE.test(args.version))
      throw new ModuleFailure(`version ${JSON.stringify(args.version)} is not a kernel release (e.g. 6.1.0-51-amd64)`);
    if (state === 'present' && !args.version)
      throw new ModuleFailure('state present needs version: the kernel release to install');
    const hr = hostRootFromVars(ctx.vars);
    const installed = await installedReleases(ctx.conn, hr);
    const running = await runningKernel(ctx.conn, hr);
    const bootNow = await readBootDefault(ctx.conn, hr);
    const extra = { installed_kernels: installed, running_kernel: running, previous_default: bootNow.boot };
    const undoFiles = bootNow.grubenvFiles.map(toBackup);

    if (state === 'adopt_newest') {
      const newest = newestRelease(installed);
      if (!newest) throw new ModuleFailure(`no kernel found in ${hr.path('/boot')}`);
      if (newest === running)
        return { status: 'no_change', reason: `already running the newest installed kernel ${running}` };
      const [initrd, initramfs] = await readRemoteFiles(ctx.conn, [
        hr.path(`/boot/initrd.img-${newest}`),
        hr.path(`/boot/initramfs-${newest}.img`),
      ]);
      if (!initrd?.exists && !initramfs?.exists)
        throw new ModuleFailure(
          `kernel ${newest} is installed but has no initramfs in /boot; rebuild it (initramfs kernel: ${newest}) first`,
        );
      return bootInstalled(ctx, hr, newest, running, bootNow, extra, 'adopt');
    }

    const pm = await packageManager(ctx, hr);
    const commands: string[] = [];
    // Reversals: they assume the package manager ran, so undo runs them only for an applied step.
    const reverse: string[] = [];
    // Guarded removals of kernels this step installs: run by undo whatever happened (a step that failed after
    // the package manager ran, e.g. on making the default, must not leave its kernel behind), each only when
    // the release's kernel file is there (it was not before this check).
    const restore: string[] = [];
    const removeIfThere = (release: string, unhold?: string) =>
      sh`if [ -e ${hr.path(`/boot/vmlinuz-${release}`)} ]; then ${raw(unhold ? `{ ${unhold} || true; }; ` : '')}${raw(pm.remove([pm.packageFor(release)]))}; fi`
        .text;
    let target: string;
    if (state === 'latest') {
      const up = await pm.upgrade(ctx.conn);
      const fresh = up.releases.filter((r) => !installed.includes(r));
      if (fresh.length === 0)
        return { status: 'no_change', reason: `no newer kernel available (installed: ${installed.join(', ')})` };
      target = newestRelease(fresh)!;
      commands.push(up.command);
      restore.push(...fresh.map((r) => removeIfThere(r)));
    } else {
      target = args.version!;
      const pkg = pm.packageFor(target);
      const holding = !!args.hold && !isHeld(await pm.held(ctx.conn), pkg);
      if (!installed.includes(target)) {
        commands.push(pm.install([pkg]));
        // Unheld first: apt refuses to remove a held package.
        restore.push(removeIfThere(target, holding ? pm.unhold(pkg) : undefined));
      }
      if (holding) {
        commands.push(pm.hold(pkg));
        if (installed.includes(target)) reverse.push(pm.unhold(pkg));
      }
    }
    const installing = commands.length > 0 && !installed.includes(target);
    if (!installing) {
      // Installed (and held when asked): the job is done only when the host runs it.
      if (target === running) {
        if (commands.length === 0)
          return {
            status: 'no_change',
            reason: `kernel ${target} is installed${args.hold ? ' and held' : ''} and running`,
          };
        return {
          status: 'change',
          change: { createdDirs: [], writes: [], commands, target },
          preview: { summary: `hold kernel ${target} (installed and running)`, files: [], commands },
          undo: { files: [], rebuild: [], reverse, extra },
        };
      }
      const boot = await bootInstalled(ctx, hr, target, running, bootNow, extra, 'boot kernel');
      if (boot.status !== 'change') return boot;
      const all = [...commands, ...boot.change.commands];
      return {
        ...boot,
        change: { ...boot.change, commands: all },
        preview: { ...boot.preview, commands: all },
        undo: {
          ...boot.undo,
          reverse: [...(boot.undo.reverse ?? []), ...reverse],
          restore: [...(boot.undo.restore ?? []), ...restore],
        },
      };
    }
    return {
      status: 'change',
      change: { createdDirs: [], writes: [], commands, target, makeDefault: true },
      preview: {
        summary: `${state === 'latest' ? 'upgrade to' : 'install'} kernel ${target} with ${pm.kind}${args.hold ? ' and hold it' : ''}, make it the default boot entry unless a rollout holds the default, reboot to run it`,
        files: [],
        commands,
      },
      undo: {
        files: undoFiles,
        rebuild: [],
        reverse,
        restore: [...[await sdbootDefaultRestore(ctx.conn, hr, bootNow.boot)].filter((c) => c !== null), ...restore],
        extra,
      },
      rebootRequired: true,
    };
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    const hr = hostRootFromVars(ctx.vars);
    if (change.commands.length && !(await installedReleases(ctx.conn, hr)).includes(change.target)) {
      throw new ModuleFailure(`the package manager finished but /boot/vmlinuz-${change.target} is not there`);
    }
    if (change.makeDefault) {
      const def = await defaultBoot(ctx.conn, hr, (await readBootDefault(ctx.conn, hr)).boot, change.target);
      if (def.command) await runChecked(ctx.conn, def.command, `making ${change.target} the default boot entry`);
    }
    return { message: `target kernel ${change.target}`, data: { target_kernel: change.target } };
  },
  // Applied: the module says which release it installed or adopted; unchanged: the version asked for.
  expectAfterBoot(exp, step) {
    const target = step.data?.target_kernel ?? (step.status === 'ok' ? step.args.version : undefined);
    if (typeof target === 'string' && target !== '') exp.kernelRelease = target;
  },
});
