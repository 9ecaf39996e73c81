/**
 * The power driver of a host, from its inventory variable `rollgate_power`. Bad configuration (unknown driver,
 * missing option, password variable unset, a password written in the inventory) is a ConfigError naming where
 * it is and what to write, found before any host is touched.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigProblem, type SourcePosition } from '../core/config-error.js';
import type { PowerDriver } from './driver.js';
import { IpmiDriver } from './ipmi.js';
import { RedfishDriver } from './redfish.js';
import { QmpPowerDriver } from './qmp.js';

export interface PowerHost {
  name: string;
  vars: Record<string, unknown>;
}

export interface PowerLookup {
  /** Environment to read password variables from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where a variable of this host was written (e.g. ['rollgate_power', 'driver']), when the loader knows. */
  locate?: (host: string, path: string[]) => SourcePosition | undefined;
}

/** Drivers by name; the lab adds 'qmp'. Each returns a driver or pushes problems. */
export type DriverFactory = (host: PowerHost, cfg: Record<string, unknown>, ctx: FactoryContext) => PowerDriver | null;
export interface FactoryContext {
  problem(path: string[], message: string, hint: string): void;
  secret(path: string[]): { value: string; env: string } | null;
}

const optionString = (
  cfg: Record<string, unknown>,
  key: string,
  ctx: FactoryContext,
  hint: string,
): string | undefined => {
  const v = cfg[key];
  if (typeof v === 'string' && v !== '') return v;
  ctx.problem(
    [key],
    v === undefined ? `rollgate_power has no \`${key}\`` : `rollgate_power.${key} must be a non-empty string`,
    hint,
  );
  return undefined;
};

export const powerDrivers: Record<string, DriverFactory> = {
  qmp(_host, cfg, ctx) {
    const socket = optionString(cfg, 'socket', ctx, "add `socket: <path of the VM's QMP unix socket>`");
    return socket ? new QmpPowerDriver(socket) : null;
  },
  ipmi(_host, cfg, ctx) {
    const host = optionString(cfg, 'host', ctx, 'add `host: <BMC address>`');
    const user = optionString(cfg, 'user', ctx, 'add `user: <BMC user>`');
    const secret = ctx.secret(['password_env']);
    const port = cfg.port === undefined ? undefined : Number(cfg.port);
    const cipherSuite = cfg.cipher_suite === undefined ? undefined : Number(cfg.cipher_suite);
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
      ctx.problem(['port'], 'rollgate_power.port is not a port number', 'e.g. `port: 623`');
    if (cipherSuite !== undefined && !(Number.isInteger(cipherSuite) && cipherSuite >= 0 && cipherSuite <= 17)) {
      ctx.problem(
        ['cipher_suite'],
        'rollgate_power.cipher_suite is not an RMCP+ cipher suite',
        'e.g. `cipher_suite: 17` or `3`',
      );
    }
    if (!host || !user || !secret) return null;
    return new IpmiDriver({
      host,
      user,
      password: secret.value,
      passwordEnv: secret.env,
      port,
      cipherSuite,
      ipmitool: typeof cfg.ipmitool === 'string' ? cfg.ipmitool : undefined,
    });
  },
  redfish(_host, cfg, ctx) {
    const url = optionString(cfg, 'url', ctx, 'add `url: https://<BMC address>`');
    const user = optionString(cfg, 'user', ctx, 'add `user: <BMC user>`');
    const secret = ctx.secret(['password_env']);
    if (url && !/^https?:\/\//.test(url))
      ctx.problem(
        ['url'],
        `rollgate_power.url ${JSON.stringify(url)} is not an http(s) URL`,
        'e.g. `url: https://10.0.0.5`',
      );
    const auth = cfg.auth ?? 'basic';
    if (auth !== 'basic' && auth !== 'session')
      ctx.problem(
        ['auth'],
        `rollgate_power.auth ${JSON.stringify(auth)} is not an auth method`,
        'write `basic` or `session`',
      );
    const verify = cfg.verify_tls ?? true;
    if (typeof verify !== 'boolean')
      ctx.problem(
        ['verify_tls'],
        'rollgate_power.verify_tls must be true or false',
        'write `verify_tls: false` only for a BMC whose certificate cannot be trusted',
      );
    let ca: Buffer | undefined;
    if (cfg.ca_file !== undefined) {
      try {
        ca = readFileSync(String(cfg.ca_file));
      } catch (err) {
        ctx.problem(
          ['ca_file'],
          `cannot read ca_file ${String(cfg.ca_file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          'give the path of a PEM file on the controller',
        );
      }
    }
    if (!url || !user || !secret || !/^https?:\/\//.test(url)) return null;
    return new RedfishDriver({
      url,
      user,
      password: secret.value,
      passwordEnv: secret.env,
      system: typeof cfg.system === 'string' ? cfg.system : undefined,
      auth: auth === 'session' ? 'session' : 'basic',
      tls: { verify: verify !== false, ca },
    });
  },
};

/** Register another driver (the lab's QMP driver registers itself this way). */
export function registerPowerDriver(name: string, factory: DriverFactory): void {
  powerDrivers[name] = factory;
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
  const factory = typeof driver === 'string' ? powerDrivers[driver] : undefined;
  if (!factory) {
    problem(
      ['driver'],
      `unknown power driver ${JSON.stringify(driver)}`,
      `write one of: ${[...Object.keys(powerDrivers), 'none'].join(', ')}`,
    );
    throw new ConfigError(problems);
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
  const d = factory(host, cfg, ctx);
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
