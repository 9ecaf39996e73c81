/**
 * A module in one definition: its spec (name, description, whether it changes hosts, options as a JSON Schema
 * written `as const`), its implementation, and optionally what a staged rollout must see after the trial boot.
 * The options' TypeScript type (`args`) is derived from the schema, so the two cannot drift; registry.ts lists
 * the definitions.
 */
import type { SchemaType } from '../core/schema-type.js';
import type { CheckModeSkips, ControllerAction } from './controller-action.js';
import type { ExpectAfterBoot } from './expectations.js';
import type { ActionModule, ModuleSpec, OptionsSchema } from './module.js';

/** A module's spec with its options schema kept literal. */
export interface SpecOf<O extends OptionsSchema, N extends string = string> extends ModuleSpec {
  name: N;
  options: O;
}

/** What a module may add to any kind: its expectation after a trial boot. */
export interface ModuleExtras {
  expectAfterBoot?: ExpectAfterBoot;
}

/** The options a module receives, as its schema describes them. */
export type ArgsOf<O> = SchemaType<O>;

export type HostModule<O extends OptionsSchema = OptionsSchema, C = unknown, N extends string = string> = SpecOf<O, N> &
  Omit<ActionModule<ArgsOf<O>, C>, keyof ModuleSpec> &
  Partial<CheckModeSkips> &
  ModuleExtras;

export type ControllerModule<O extends OptionsSchema = OptionsSchema, N extends string = string> = SpecOf<O, N> &
  Omit<ControllerAction<ArgsOf<O>>, keyof ModuleSpec> &
  ModuleExtras;

/** A host module: check() computes the change and its undo without touching the host, apply() carries it out. */
export function defineHostModule<const O extends OptionsSchema, C, const N extends string>(
  module: HostModule<O, C, N>,
): HostModule<O, C, N> {
  return module;
}

/** A controller module: runs on the controller and touches no host (debug, set_fact, assert ...). */
export function defineControllerModule<const O extends OptionsSchema, const N extends string>(
  module: ControllerModule<O, N>,
): ControllerModule<O, N> {
  return module;
}
