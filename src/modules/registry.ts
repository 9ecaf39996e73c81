/**
 * Every module a playbook can name: the only list of them. Each entry is one definition (define-module.ts):
 * spec, implementation and, optionally, what a staged rollout must see after the trial boot. The playbook
 * schema, load-time validation, `--help`, the executor's lookup and the rollout's expectations are derived from
 * it. Adding a module: its file in actions/, one line here.
 */
import type { ActionModule } from './module.js';
import type { CheckModeSkips, ControllerAction } from './controller-action.js';
import type { ArgsOf, ModuleExtras } from './define-module.js';
import { assert } from './actions/assert.js';
import { bootDefault } from './actions/boot-default.js';
import { command } from './actions/command.js';
import { debug } from './actions/debug.js';
import { driverBlacklist } from './actions/driver-blacklist.js';
import { fail } from './actions/fail.js';
import { initramfs } from './actions/initramfs.js';
import { kernelArgs } from './actions/kernel-args.js';
import { kernelPackage } from './actions/kernel-package.js';
import { pause } from './actions/pause.js';
import { reboot } from './actions/reboot.js';
import { setFact } from './actions/set-fact.js';
import { shell } from './actions/shell.js';
import { snapshot } from './actions/snapshot.js';
import { verify } from './actions/verify.js';
import { vfioBind } from './actions/vfio-bind.js';

export const modules = {
  kernel_args: kernelArgs,
  vfio_bind: vfioBind,
  driver_blacklist: driverBlacklist,
  boot_default: bootDefault,
  initramfs,
  kernel_package: kernelPackage,
  reboot,
  snapshot,
  verify,
  assert,
  command,
  shell,
  debug,
  set_fact: setFact,
  fail,
  pause,
} as const;

export type ModuleName = keyof typeof modules;

/** The options type of module `N`, derived from its schema. */
export type ModuleArgs<N extends ModuleName> = ArgsOf<(typeof modules)[N]['options']>;

/** A module of any kind, as the executor holds it (options are validated against its schema before it runs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
export type PlaybookAction = (ControllerAction<Any> | (ActionModule<Any, Any> & Partial<CheckModeSkips>)) &
  ModuleExtras;

/** A table of modules: each entry's name is its key, and each is a whole module (spec and implementation). */
export type ModuleTable<T> = { [N in keyof T]: { name: N } & PlaybookAction };

// A spec without an implementation, or an entry under another name, does not compile.
modules satisfies ModuleTable<typeof modules>;

/** name -> spec (name, description, changesHost, options), for load/ and the schema writer. */
export const moduleSpecs = modules;

export const moduleNames = Object.keys(modules) as ModuleName[];

export function isModuleName(name: string): name is ModuleName {
  return Object.hasOwn(modules, name);
}

/** The module called `name`, or undefined. */
export function findModule(name: string): PlaybookAction | undefined {
  return isModuleName(name) ? (modules[name] as PlaybookAction) : undefined;
}
