/**
 * The power driver of a host, from its inventory variable `rollgate_power`. Bad configuration (unknown driver,
 * missing or unknown option, password variable unset, a password written in the inventory) is a ConfigError naming where
 * it is and what to write, found before any host is touched.
 */
import { ConfigError, type ConfigProblem, type SourcePosition } from '../core/config-error.js';
import { didYouMean } from '../core/suggest.js';
import type { FactoryContext, PowerHost } from './definition.js';
import type { PowerDriver } from './driver.js';
import { findPowerDriver, powerDriverNames } from './registry.js';

export type { FactoryContext, PowerHost } from './definition.js';
export { registerPowerDriver } from './registry.js';

export interface PowerLookup {
  /** Environment to read password variables from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where a variable of this host was written (e.g. ['rollgate_power', 'driver']), when the loader knows. */
  locate?: (host: string, path: string[]) => SourcePosition | undefined;
}

/**
 * The driver for one host, or null when the inventory says there is none (`driver: none` or no
 * `rollgate_power`): then a host that never comes back needs a person. Throws ConfigError on bad config.
 */
export function powerDriverFor(host: PowerHost, lookup: PowerLookup = {}): PowerDriver | null {
  const problems: ConfigProblem[] = [];
  const env = lookup.env ?? process.env;
  const raw = host.vars.rollgate_power;
  const at = (path: string[]) => lookup.locate?.(host.name, ['rollgate_power', ...path]);
  const problem = (path: string[], message: string, hint: string) =>
    problems.push({ position: at(path), message: `host ${host.name}: ${message}`, hint });
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problem(
      [],
      'rollgate_power must be a mapping',
      'e.g. `rollgate_power: {driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD}`',
    );
    throw new ConfigError(problems);
  }
  const cfg = raw as Record<string, unknown>;
  if ('password' in cfg)
    problem(
      ['password'],
      'a BMC password is written in the inventory',
      'remove it and name an environment variable instead: `password_env: BMC_PASSWORD`',
    );
  const driver = cfg.driver;
  if (driver === 'none') return null;
  const definition = typeof driver === 'string' ? findPowerDriver(driver) : undefined;
  if (!definition) {
    problem(
      ['driver'],
      `unknown power driver ${JSON.stringify(driver)}`,
      `write one of: ${powerDriverNames().join(', ')}`,
    );
    throw new ConfigError(problems);
  }
  const known = Object.keys(definition.options);
  for (const key of Object.keys(cfg)) {
    if (key === 'driver' || key === 'password' || key in definition.options) continue;
    problem(
      [key],
      `the ${definition.name} power driver has no option \`${key}\``,
      didYouMean(key, known) ?? `its options are: ${known.join(', ')}`,
    );
  }
  const ctx: FactoryContext = {
    problem,
    secret(path) {
      const name = cfg[path[0] as string];
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problem(
          path,
          'rollgate_power has no `password_env` naming the environment variable that holds the password',
          'add e.g. `password_env: BMC_PASSWORD` and export BMC_PASSWORD before the run',
        );
        return null;
      }
      const value = env[name];
      if (!value) {
        problem(
          path,
          `environment variable ${name} (rollgate_power.password_env) is not set`,
          `export ${name}=... in the controller's environment before the run`,
        );
        return null;
      }
      return { value, env: name };
    },
  };
  const d = definition.create(host, cfg, ctx);
  if (problems.length > 0) throw new ConfigError(problems);
  return d;
}

/** Every host's driver, with every problem of every host in one ConfigError. */
export function powerDriversFor(
  hosts: readonly PowerHost[],
  lookup: PowerLookup = {},
): Map<string, PowerDriver | null> {
  const out = new Map<string, PowerDriver | null>();
  const problems: ConfigProblem[] = [];
  for (const h of hosts) {
    try {
      out.set(h.name, powerDriverFor(h, lookup));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
