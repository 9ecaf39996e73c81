/**
 * One JSON request over HTTP(S) with node's own client: TLS verified by default (a CA file may be added), a
 * hard timeout, and errors sorted into kinds. Small on purpose: Redfish needs GET, POST and DELETE of JSON.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PowerError } from './power-error.js';

export interface TlsOptions {
  /** Verify the server certificate (default true). */
  verify: boolean;
  /** PEM CA bundle to trust instead of the system store (node's `ca` option), e.g. the BMC's own CA. */
  ca?: string | Buffer;
}

export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
  text: string;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|HOSTNAME|ALTNAME/i;

export function requestJson(
  method: 'GET' | 'POST' | 'DELETE',
  url: URL,
  opts: { headers?: Record<string, string>; body?: unknown; tls: TlsOptions; timeoutMs: number },
): Promise<JsonResponse> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { Accept: 'application/json', 'OData-Version': '4.0', ...opts.headers };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  const isHttps = url.protocol === 'https:';
  const requestFn = isHttps ? httpsRequest : httpRequest;
  const tlsOpts = isHttps ? { rejectUnauthorized: opts.tls.verify, ...(opts.tls.ca ? { ca: opts.tls.ca } : {}) } : {};
  return new Promise((resolve, reject) => {
    const req = requestFn(url, { method, headers, timeout: opts.timeoutMs, ...tlsOpts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
      res.on('error', (err) => reject(new PowerError('unreachable', `${method} ${url.pathname}: ${err.message}`)));
    });
    req.on('timeout', () => {
      req.destroy();
      reject(new PowerError('timeout', `${method} ${url.pathname}: no answer within ${opts.timeoutMs} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (TLS_CODES.test(code) || TLS_CODES.test(err.message)) {
        reject(
          new PowerError(
            'tls',
            `${url.host}: TLS certificate not trusted (${code || err.message}); give the BMC's CA with ca_file, or set verify_tls: false to skip the check`,
            false,
          ),
        );
      } else reject(new PowerError('unreachable', `${method} ${url.host}${url.pathname}: ${code || err.message}`));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
