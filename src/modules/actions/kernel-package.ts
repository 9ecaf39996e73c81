/**
 * kernel_package: install (and optionally hold) a kernel release with apt or dnf, upgrade to the latest, or
 * adopt the newest kernel already installed as the target. Never changes the default boot entry on purpose
 * (the rollout boots the candidate once first); it records the default entry, the grubenv bytes and the
 * installed kernel set, and undo unholds and removes what it installed.
 */
import { moduleSpecs } from '../specs.js';
import { ModuleFailure, type ActionModule, type CheckOutcome } from '../module.js';
import { hostRootFromVars } from '../host-root.js';
import { readRemoteFiles, toBackup } from '../host-files.js';
import { applyFileChange, type FileChange } from '../file-change.js';
import { runningKernel } from '../initramfs/initramfs-tooling.js';
import { installedReleases, newestRelease, readBootDefault, RELEASE } from '../kernel/kernel-set.js';
import { detectPackageManager, type PackageManager } from '../kernel/package-manager.js';

export interface KernelPackageArgs {
  version?: string;
  state?: 'present' | 'latest' | 'adopt_newest';
  hold?: boolean;
}

export type KernelPackageChange = FileChange & { target: string };

/** Whether a hold list names the package (dnf lists `kernel-0:6.5.6-300.fc39.*`). */
export function isHeld(held: readonly string[], pkg: string): boolean {
  return held.some((h) => {
    const bare = h.trim().replace(/^([^:]*-)\d+:/, '$1').replace(/\.\*$/, '');
    return bare === pkg || (bare.length > 0 && pkg.startsWith(`${bare}.`));
  });
}

async function packageManager(ctx: Parameters<ActionModule['check']>[0], root: ReturnType<typeof hostRootFromVars>): Promise<PackageManager> {
  const pm = await detectPackageManager(ctx.conn, root);
  if (!pm) throw new ModuleFailure('neither apt-get nor dnf is installed');
  return pm;
}

export const kernelPackage: ActionModule<KernelPackageArgs, KernelPackageChange> = {
  ...moduleSpecs.kernel_package,

  async check(ctx, args): Promise<CheckOutcome<KernelPackageChange>> {
    const state = args.state ?? 'present';
    if (args.version !== undefined && !RELEASE.test(args.version)) throw new ModuleFailure(`version ${JSON.stringify(args.version)} is not a kernel release (e.g. 6.1.0-51-amd64)`);
    if (state === 'present' && !args.version) throw new ModuleFailure('state present needs version: the kernel release to install');
    const hr = hostRootFromVars(ctx.vars);
    const installed = await installedReleases(ctx.conn, hr);
    const running = await runningKernel(ctx.conn, hr);
    const { boot, grubenvFiles } = await readBootDefault(ctx.conn, hr);
    const extra = { installed_kernels: installed, running_kernel: running, previous_default: boot };
    const undoFiles = grubenvFiles.map(toBackup);

    if (state === 'adopt_newest') {
      const newest = newestRelease(installed);
      if (!newest) throw new ModuleFailure(`no kernel found in ${hr.path('/boot')}`);
      if (newest === running) return { status: 'no_change', reason: `already running the newest installed kernel ${running}` };
      const [initrd, initramfs] = await readRemoteFiles(ctx.conn, [hr.path(`/boot/initrd.img-${newest}`), hr.path(`/boot/initramfs-${newest}.img`)]);
      if (!initrd!.exists && !initramfs!.exists) throw new ModuleFailure(`kernel ${newest} is installed but has no initramfs in /boot; rebuild it (initramfs kernel: ${newest}) first`);
      return {
        status: 'change',
        change: { createdDirs: [], writes: [], commands: [], target: newest },
        preview: { summary: `adopt ${newest} (installed, running ${running}) as the target kernel`, files: [], commands: [] },
        undo: { files: [], rebuild: [], extra },
        rebootRequired: true,
      };
    }

    const pm = await packageManager(ctx, hr);
    const commands: string[] = [];
    // Reversals: they assume the package manager ran, so undo runs them only for an applied step.
    const reverse: string[] = [];
    let target: string;
    if (state === 'latest') {
      const up = await pm.upgrade(ctx.conn);
      const fresh = up.releases.filter((r) => !installed.includes(r));
      if (fresh.length === 0) return { status: 'no_change', reason: `no newer kernel available (installed: ${installed.join(', ')})` };
      target = newestRelease(fresh)!;
      commands.push(up.command);
      reverse.push(pm.remove(fresh.map((r) => pm.packageFor(r))));
    } else {
      target = args.version!;
      const pkg = pm.packageFor(target);
      if (!installed.includes(target)) {
        commands.push(pm.install([pkg]));
        reverse.push(pm.remove([pkg]));
      }
      if (args.hold && !isHeld(await pm.held(ctx.conn), pkg)) {
        commands.push(pm.hold(pkg));
        reverse.unshift(pm.unhold(pkg)); // unhold before removing: apt refuses to remove a held package
      }
    }
    if (commands.length === 0) return { status: 'no_change', reason: `kernel ${target} already installed${args.hold ? ' and held' : ''}` };
    return {
      status: 'change',
      change: { createdDirs: [], writes: [], commands, target },
      preview: { summary: `${state === 'latest' ? 'upgrade to' : 'install'} kernel ${target} with ${pm.kind}${args.hold ? ' and hold it' : ''}; default boot entry left as is`, files: [], commands },
      undo: { files: undoFiles, rebuild: [], reverse, extra },
      rebootRequired: true,
    };
  },

  async apply(ctx, _args, change) {
    await applyFileChange(ctx.conn, change);
    const hr = hostRootFromVars(ctx.vars);
    if (change.commands.length && !(await installedReleases(ctx.conn, hr)).includes(change.target)) {
      throw new ModuleFailure(`the package manager finished but /boot/vmlinuz-${change.target} is not there`);
    }
    return { message: `target kernel ${change.target}`, data: { target_kernel: change.target } };
  },
};
