/**
 * IPMI power control through ipmitool (lanplus). The password reaches ipmitool only through its environment
 * (`-E` reads IPMI_PASSWORD), never through argv, where any user of the controller could read it in `ps`. ipmitool
 * runs through zx.
 */
import type { PowerDriver, PowerState } from './driver.js';
import { PowerError, redact, tail } from './power-error.js';
import { definePowerDriver, optionString, passwordEnvOption } from './definition.js';

export interface IpmiOptions {
  /** BMC address. */
  host: string;
  /** RMCP port. Default 623. */
  port?: number;
  user: string;
  /** The password itself, read by the caller from the environment variable the inventory names. */
  password: string;
  /** Name of that variable, for messages only. */
  passwordEnv: string;
  /** `-C N`: the RMCP+ cipher suite; unset lets ipmitool choose (some BMCs need 3 or 17). */
  cipherSuite?: number;
  /** Per command, in milliseconds. Default 30000. */
  timeoutMs?: number;
  /** ipmitool binary. Default 'ipmitool' on PATH. */
  ipmitool?: string;
}

export type IpmiAction = 'reset' | 'status' | 'on' | 'off';

/** The exact argv (without the binary); pure, so tests can read it. Never contains the password. */
export function ipmitoolArgs(
  o: Pick<IpmiOptions, 'host' | 'port' | 'user' | 'cipherSuite'>,
  action: IpmiAction,
): string[] {
  // -v: without it ipmitool says only "Unable to establish ... session" for a wrong password (RAKP 2 HMAC).
  const args = ['-v', '-I', 'lanplus', '-H', o.host];
  if (o.port !== undefined && o.port !== 623) args.push('-p', String(o.port));
  if (o.cipherSuite !== undefined) args.push('-C', String(o.cipherSuite));
  args.push('-U', o.user, '-E', 'chassis', 'power', action);
  return args;
}

/** "Chassis Power is on" -> on. */
export function parsePowerStatus(stdout: string): PowerState {
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  return m ? ((m[1] as string).toLowerCase() as PowerState) : 'unknown';
}

function classify(stderr: string): PowerError['kind'] {
  if (/unauthorized name|HMAC is invalid|authentication|password|insufficient privilege/i.test(stderr)) return 'auth';
  if (/Unable to establish|no response|timeout|Get Session Challenge command failed|Connection refused/i.test(stderr))
    return 'unreachable';
  return 'refused';
}

export class IpmiDriver implements PowerDriver {
  readonly kind = 'ipmi';
  readonly describe: string;

  constructor(private readonly o: IpmiOptions) {
    this.describe = `ipmi ${o.user}@${o.host}${o.port && o.port !== 623 ? `:${o.port}` : ''} (password from $${o.passwordEnv})`;
  }

  private async run(action: IpmiAction): Promise<string> {
    const o = this.o;
    const timeout = o.timeoutMs ?? 30_000;
    const where = `ipmi ${o.host}: chassis power ${action}`;
    // zx quotes each argument for the local shell; loaded on first use, not on every CLI start.
    const { $ } = await import('zx');
    const out = await $({
      env: { ...process.env, IPMI_PASSWORD: o.password },
      timeout,
      timeoutSignal: 'SIGKILL',
      nothrow: true,
      quiet: true,
    })`${o.ipmitool ?? 'ipmitool'} ${ipmitoolArgs(o, action)}`;
    if (out.exitCode === 0) return out.stdout;
    if (out.signal === 'SIGKILL') throw new PowerError('timeout', `${where}: no answer within ${timeout} ms`);
    if (out.exitCode === 127 || out.exitCode === 126)
      throw new PowerError('refused', `${where}: ipmitool is not installed on the controller`, false);
    const detail = redact(tail(out.stderr || out.stdout), [o.password]);
    throw new PowerError(classify(out.stderr), `${where} failed: ${detail || `exit ${out.exitCode}`}`);
  }

  async reset(): Promise<void> {
    await this.run('reset');
  }
  async powerOff(): Promise<void> {
    await this.run('off');
  }
  async powerOn(): Promise<void> {
    await this.run('on');
  }
  async status(): Promise<PowerState> {
    return parsePowerStatus(await this.run('status'));
  }
}

const integerOrDigits = { type: ['integer', 'string'], pattern: '^[0-9]+$' };

/** `rollgate_power: {driver: ipmi, host, user, password_env, port?, cipher_suite?, ipmitool?}`. */
export const ipmiPower = definePowerDriver({
  name: 'ipmi',
  description: 'a BMC over IPMI 2.0 (lanplus), through ipmitool',
  options: {
    host: { description: 'BMC address', type: 'string', minLength: 1 },
    user: { description: 'BMC user', type: 'string', minLength: 1 },
    password_env: passwordEnvOption,
    port: { description: 'RMCP port (default 623)', ...integerOrDigits, 'x-hint': 'e.g. `port: 623`' },
    cipher_suite: {
      description: 'RMCP+ cipher suite (`ipmitool -C`); unset lets ipmitool choose',
      ...integerOrDigits,
      'x-hint': 'e.g. `cipher_suite: 17` or `3`',
    },
    ipmitool: { description: 'the ipmitool binary (default `ipmitool` on PATH)', type: 'string', minLength: 1 },
  },
  create(_host, cfg, ctx) {
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
});
