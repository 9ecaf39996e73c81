/**
 * What a power driver declares about itself: its name, the `rollgate_power` options it reads (each with a JSON
 * Schema, which the inventory schema is generated from) and how to build it from a host's options. The registry
 * (registry.ts) lists the definitions; nothing else repeats a driver's name.
 */
import type { PowerDriver } from './driver.js';

export interface PowerHost {
  name: string;
  vars: Record<string, unknown>;
}

/** Given to a driver's `create`: report a bad option (with its position) or read a password variable. */
export interface FactoryContext {
  problem(path: string[], message: string, hint: string): void;
  secret(path: string[]): { value: string; env: string } | null;
}

/** A JSON Schema fragment for one option (draft-07; `description` is required, it is the option's doc line). */
export type PowerOptionSchema = { description: string } & Record<string, unknown>;

export interface PowerDriverDefinition<Name extends string = string> {
  /** The value of `rollgate_power.driver`. */
  name: Name;
  /** One line for the schema and the docs. */
  description: string;
  /**
   * Every option the driver reads under `rollgate_power` besides `driver`; anything else is refused. Not marked
   * required in the schema: a group may set some options and each host the rest; `create` reports missing ones.
   */
  options: Record<string, PowerOptionSchema>;
  /** The driver for one host, or null after reporting problems through `ctx.problem`. */
  create(host: PowerHost, cfg: Record<string, unknown>, ctx: FactoryContext): PowerDriver | null;
}

/** Identity, for type inference of the name. */
export function definePowerDriver<const Name extends string>(
  definition: PowerDriverDefinition<Name>,
): PowerDriverDefinition<Name> {
  return definition;
}

/** A non-empty string option, or a problem saying what to write. */
export function optionString(
  cfg: Record<string, unknown>,
  key: string,
  ctx: FactoryContext,
  hint: string,
): string | undefined {
  const v = cfg[key];
  if (typeof v === 'string' && v !== '') return v;
  ctx.problem(
    [key],
    v === undefined ? `rollgate_power has no \`${key}\`` : `rollgate_power.${key} must be a non-empty string`,
    hint,
  );
  return undefined;
}

/** The schema of a `password_env` option: the name of an environment variable, never the password. */
export const passwordEnvOption: PowerOptionSchema = {
  description: 'name of the environment variable on the controller that holds the password',
  type: 'string',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  'x-hint': 'name an environment variable, e.g. `password_env: BMC_PASSWORD`, and export it before the run',
};
