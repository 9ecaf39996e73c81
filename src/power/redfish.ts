/**
 * Redfish power control: `POST {system}/Actions/ComputerSystem.Reset` with a ResetType, `GET {system}` for
 * PowerState. Basic auth or a session (X-Auth-Token, deleted afterwards). The reset target and allowed types are
 * read from the system resource when it lists them. Credentials never reach messages.
 */
import { readFileSync } from 'node:fs';
import type { PowerDriver, PowerState } from './driver.js';
import { definePowerDriver, optionString, passwordEnvOption } from './definition.js';
import { requestJson, type JsonResponse, type TlsOptions } from './http-json.js';
import { PowerError, redact } from './power-error.js';

export interface RedfishOptions {
  /** Base URL of the BMC, e.g. https://bmc.example. */
  url: string;
  /** System resource path; default: the first member of /redfish/v1/Systems. */
  system?: string;
  user: string;
  password: string;
  passwordEnv: string;
  /** Default 'basic'. */
  auth?: 'basic' | 'session';
  tls: TlsOptions;
  /** Per request, in milliseconds. Default 20000. */
  timeoutMs?: number;
}

/** Preferred ResetType per action, in order; the first the system allows wins. */
export const RESET_TYPES = {
  reset: ['ForceRestart', 'PowerCycle'],
  off: ['ForceOff'],
  on: ['On', 'ForceOn'],
} as const;

export function pickResetType(
  action: keyof typeof RESET_TYPES,
  allowed: readonly string[] | undefined,
): string | undefined {
  const wanted: readonly string[] = RESET_TYPES[action];
  if (!allowed || allowed.length === 0) return wanted[0];
  return wanted.find((t) => allowed.includes(t));
}

export function parsePowerState(value: unknown): PowerState {
  if (value === 'On' || value === 'PoweringOff') return 'on';
  if (value === 'Off' || value === 'PoweringOn') return 'off';
  return 'unknown';
}

/** The Redfish error message of a response, if any. */
function redfishMessage(r: JsonResponse): string {
  const err = (r.body as { error?: { message?: string; '@Message.ExtendedInfo'?: Array<{ Message?: string }> } } | null)
    ?.error;
  return err?.['@Message.ExtendedInfo']?.[0]?.Message ?? err?.message ?? r.text.slice(0, 200);
}

export class RedfishDriver implements PowerDriver {
  readonly kind = 'redfish';
  readonly describe: string;
  private readonly base: URL;
  /** Everything that must never appear in a message: the password and the Basic credentials built from it. */
  private readonly secrets: string[];

  constructor(private readonly o: RedfishOptions) {
    this.base = new URL(o.url);
    this.secrets = [o.password, `${o.user}:${o.password}`];
    this.describe = `redfish ${o.user}@${this.base.host}${o.system ?? ''} (password from $${o.passwordEnv}${o.tls.verify ? '' : ', TLS not verified'})`;
  }

  private async call(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<JsonResponse> {
    const url = new URL(path, this.base);
    let r: JsonResponse;
    try {
      r = await requestJson(method, url, { headers, body, tls: this.o.tls, timeoutMs: this.o.timeoutMs ?? 20_000 });
    } catch (err) {
      if (err instanceof PowerError)
        throw new PowerError(err.kind, `redfish ${redact(err.message, this.secrets)}`, err.retryable);
      throw err;
    }
    if (r.status === 401 || r.status === 403) {
      throw new PowerError(
        'auth',
        `redfish ${this.base.host}: ${method} ${url.pathname} refused for user ${this.o.user} (HTTP ${r.status}); check the password in $${this.o.passwordEnv}`,
      );
    }
    if (r.status >= 400) {
      throw new PowerError(
        'refused',
        `redfish ${this.base.host}: ${method} ${url.pathname} failed (HTTP ${r.status}): ${redact(redfishMessage(r), this.secrets)}`,
        r.status >= 500,
      );
    }
    return r;
  }

  /** Runs fn with auth headers; a session is opened first and deleted after. */
  private async withAuth<T>(fn: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    if ((this.o.auth ?? 'basic') === 'basic') {
      return fn({ Authorization: `Basic ${Buffer.from(`${this.o.user}:${this.o.password}`).toString('base64')}` });
    }
    const r = await this.call(
      'POST',
      '/redfish/v1/SessionService/Sessions',
      {},
      { UserName: this.o.user, Password: this.o.password },
    );
    const token = r.headers['x-auth-token'];
    if (typeof token !== 'string')
      throw new PowerError('protocol', `redfish ${this.base.host}: session created without an X-Auth-Token`, false);
    const headers = { 'X-Auth-Token': token };
    try {
      return await fn(headers);
    } finally {
      const location = r.headers.location;
      if (typeof location === 'string') await this.call('DELETE', location, headers).catch(() => undefined);
    }
  }

  private async systemPath(headers: Record<string, string>): Promise<string> {
    if (this.o.system) return this.o.system;
    const r = await this.call('GET', '/redfish/v1/Systems', headers);
    const first = (r.body as { Members?: Array<{ '@odata.id'?: string }> } | null)?.Members?.[0]?.['@odata.id'];
    if (!first)
      throw new PowerError(
        'protocol',
        `redfish ${this.base.host}: /redfish/v1/Systems lists no system; set \`system:\` in rollgate_power`,
        false,
      );
    return first;
  }

  private async act(action: keyof typeof RESET_TYPES): Promise<void> {
    await this.withAuth(async (headers) => {
      const path = await this.systemPath(headers);
      const sys = (await this.call('GET', path, headers)).body as Record<string, unknown> | null;
      const reset = (
        sys?.Actions as Record<string, { target?: string; 'ResetType@Redfish.AllowableValues'?: string[] }> | undefined
      )?.['#ComputerSystem.Reset'];
      const type = pickResetType(action, reset?.['ResetType@Redfish.AllowableValues']);
      if (!type) {
        throw new PowerError(
          'refused',
          `redfish ${this.base.host}: ${path} allows none of ${RESET_TYPES[action].join(', ')} (it allows ${reset?.['ResetType@Redfish.AllowableValues']?.join(', ')})`,
          false,
        );
      }
      await this.call('POST', reset?.target ?? `${path.replace(/\/$/, '')}/Actions/ComputerSystem.Reset`, headers, {
        ResetType: type,
      });
    });
  }

  async reset(): Promise<void> {
    await this.act('reset');
  }
  async powerOff(): Promise<void> {
    await this.act('off');
  }
  async powerOn(): Promise<void> {
    await this.act('on');
  }
  async status(): Promise<PowerState> {
    return this.withAuth(async (headers) => {
      const sys = (await this.call('GET', await this.systemPath(headers), headers)).body as {
        PowerState?: unknown;
      } | null;
      return parsePowerState(sys?.PowerState);
    });
  }
}

/** `rollgate_power: {driver: redfish, url, user, password_env, system?, auth?, verify_tls?, ca_file?}`. */
export const redfishPower = definePowerDriver({
  name: 'redfish',
  description: "a BMC's Redfish REST service",
  options: {
    url: { description: 'base URL of the BMC, e.g. https://10.0.0.5', type: 'string', minLength: 1 },
    user: { description: 'BMC user', type: 'string', minLength: 1 },
    password_env: passwordEnvOption,
    system: {
      description: 'system resource path (default: the first member of /redfish/v1/Systems)',
      type: 'string',
      minLength: 1,
    },
    auth: { description: 'basic (default) or session', enum: ['basic', 'session'] },
    verify_tls: {
      description: "check the BMC's certificate (default true)",
      type: 'boolean',
      'x-hint': 'write `verify_tls: false` only for a BMC whose certificate cannot be trusted',
    },
    ca_file: { description: "PEM file on the controller to check the BMC's certificate with", type: 'string' },
  },
  create(_host, cfg, ctx) {
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
});
