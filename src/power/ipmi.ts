/**
 * IPMI power control through ipmitool (lanplus). The password reaches ipmitool only through its environment
 * (`-E` reads IPMI_PASSWORD), never through argv, where any user of the controller could read it in `ps`.
 */
import { execFile } from 'node:child_process';
import type { PowerDriver, PowerState } from './driver.js';
import { PowerError, redact, tail } from './power-error.js';

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

  private run(action: IpmiAction): Promise<string> {
    const o = this.o;
    const env = { ...process.env, IPMI_PASSWORD: o.password };
    const timeout = o.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      execFile(
        o.ipmitool ?? 'ipmitool',
        ipmitoolArgs(o, action),
        { env, timeout, killSignal: 'SIGKILL' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
          const where = `ipmi ${o.host}: chassis power ${action}`;
          if (e.code === 'ENOENT')
            return reject(new PowerError('refused', `${where}: ipmitool is not installed on the controller`, false));
          if (e.killed) return reject(new PowerError('timeout', `${where}: no answer within ${timeout} ms`));
          const detail = redact(tail(String(stderr) || String(stdout)), [o.password]);
          reject(new PowerError(classify(String(stderr)), `${where} failed: ${detail || `exit ${e.code}`}`));
        },
      );
    });
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
