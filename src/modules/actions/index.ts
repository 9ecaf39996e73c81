/**
 * The change modules by name, as the playbook language looks them up (names match src/modules/specs.ts).
 * Each entry is an ActionModule: check() computes the exact change and its undo without touching the host,
 * apply() carries it out. Modules throw ModuleFailure for refusals and failed commands.
 */
import type { ActionModule } from '../module.js';
import type { ModuleName } from '../specs.js';
import { kernelArgs } from './kernel-args.js';
import { vfioBind } from './vfio-bind.js';
import { driverBlacklist } from './driver-blacklist.js';
import { initramfs } from './initramfs.js';
import { reboot } from './reboot.js';
import { kernelPackage } from './kernel-package.js';

// Args and change types differ per module; callers pass validated options from the playbook.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyAction = ActionModule<any, any>;

export const actionModules: Partial<Record<ModuleName, AnyAction>> = {
  kernel_args: kernelArgs,
  vfio_bind: vfioBind,
  driver_blacklist: driverBlacklist,
  initramfs,
  kernel_package: kernelPackage,
  reboot,
};

export function findActionModule(name: string): AnyAction | undefined {
  return (actionModules as Record<string, AnyAction | undefined>)[name];
}
