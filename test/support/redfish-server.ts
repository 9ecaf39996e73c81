/**
 * A small Redfish service on 127.0.0.1 for tests: service root, one system with PowerState and the
 * ComputerSystem.Reset action, basic auth and sessions. It records every request and checks credentials like a
 * BMC does. HTTPS with a throwaway self-signed certificate (made with openssl) or plain HTTP.
 */
import { execFileSync } from 'node:child_process';
import { createServer as createHttps } from 'node:https';
import { createServer as createHttp, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  auth: 'basic' | 'token' | 'none';
}

export interface FakeBmc {
  url: string;
  /** PEM of the self-signed certificate (its own CA), for ca_file. */
  certFile: string;
  requests: RecordedRequest[];
  powerState: 'On' | 'Off';
  allowed: string[];
  /** When set, error bodies quote the credentials back (a careless BMC), to prove we redact them. */
  echoCredentials: boolean;
  /** When set, the reset action fails with this HTTP status even for an allowed type. */
  failReset?: number;
  liveSessions: Set<string>;
  close(): Promise<void>;
}

const SYSTEM = '/redfish/v1/Systems/437XR1138R2';

export function makeCertificate(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

export async function startFakeBmc(opts: { user: string; password: string; tls: boolean }): Promise<FakeBmc> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-redfish-'));
  const { key, cert } = makeCertificate(dir);
  const bmc: FakeBmc = {
    url: '',
    certFile: cert,
    requests: [],
    powerState: 'On',
    allowed: ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'],
    echoCredentials: false,
    liveSessions: new Set(),
    close: async () => undefined,
  };
  let nextSession = 1;

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string) =>
    send(res, status, {
      error: { code: 'Base.1.0.GeneralError', message, '@Message.ExtendedInfo': [{ Message: message }] },
    });

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      return error(res, 400, 'malformed JSON');
    }
    const basic = req.headers.authorization;
    const token = req.headers['x-auth-token'];
    bmc.requests.push({ method: req.method ?? '', path, body, auth: basic ? 'basic' : token ? 'token' : 'none' });
    if (req.method === 'POST' && path === '/redfish/v1/SessionService/Sessions') {
      const b = body as { UserName?: string; Password?: string } | null;
      if (b?.UserName !== opts.user || b?.Password !== opts.password)
        return error(res, 401, bmc.echoCredentials ? `bad login ${b?.UserName}/${b?.Password}` : 'bad login');
      const id = String(nextSession++);
      const tok = `tok-${id}-${Math.random().toString(36).slice(2)}`;
      bmc.liveSessions.add(tok);
      return send(
        res,
        201,
        { Id: id },
        { 'X-Auth-Token': tok, Location: `/redfish/v1/SessionService/Sessions/${id}#${tok}` },
      );
    }
    const basicOk = basic === `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
    const tokenOk = typeof token === 'string' && bmc.liveSessions.has(token);
    if (!basicOk && !tokenOk) return error(res, 401, 'authentication required');
    if (req.method === 'DELETE' && path.startsWith('/redfish/v1/SessionService/Sessions/')) {
      bmc.liveSessions.delete(String(token));
      return send(res, 204);
    }
    if (req.method === 'GET' && path === '/redfish/v1/Systems')
      return send(res, 200, { Members: [{ '@odata.id': SYSTEM }], 'Members@odata.count': 1 });
    if (req.method === 'GET' && path === SYSTEM) {
      return send(res, 200, {
        '@odata.id': SYSTEM,
        PowerState: bmc.powerState,
        Actions: {
          '#ComputerSystem.Reset': {
            target: `${SYSTEM}/Actions/ComputerSystem.Reset`,
            'ResetType@Redfish.AllowableValues': bmc.allowed,
          },
        },
      });
    }
    if (req.method === 'POST' && path === `${SYSTEM}/Actions/ComputerSystem.Reset`) {
      const type = (body as { ResetType?: string } | null)?.ResetType;
      if (bmc.failReset)
        return error(
          res,
          bmc.failReset,
          bmc.echoCredentials ? `reset refused for ${opts.user}:${opts.password} (${basic ?? ''})` : 'reset refused',
        );
      if (!type || !bmc.allowed.includes(type)) {
        return error(
          res,
          400,
          bmc.echoCredentials
            ? `ResetType ${type} refused for ${opts.user}:${opts.password}`
            : `ResetType ${type} not allowed`,
        );
      }
      if (type === 'ForceOff') bmc.powerState = 'Off';
      if (type === 'On' || type === 'ForceOn' || type === 'ForceRestart' || type === 'PowerCycle')
        bmc.powerState = 'On';
      return send(res, 204);
    }
    return error(res, 404, `no resource ${path}`);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server: Server = opts.tls
    ? createHttps({ key: readFileSync(key), cert: readFileSync(cert) }, listener)
    : createHttp(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  bmc.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  bmc.close = () => new Promise((resolve) => server.close(() => resolve()));
  return bmc;
}
