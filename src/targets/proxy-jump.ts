/**
 * ProxyJump specs (`[user@]host[:port]`, comma-separated chains, `none`) turned into nested SshTargets: each
 * hop is looked up in ~/.ssh/config like any host, and a chain `a,b` means the target is reached through b,
 * which is reached through a. Pure apart from the ssh config lookup passed in.
 */

/** One hop as written. */
export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** Parse a ProxyJump value. Returns undefined for `none`, an error message for a malformed hop. */
export function parseProxyJump(value: string): JumpSpec[] | string | undefined {
  const text = value.trim();
  if (text === '' || text.toLowerCase() === 'none') return undefined;
  const hops: JumpSpec[] = [];
  for (const raw of text.split(',')) {
    const hop = raw.trim().replace(/^ssh:\/\//, '');
    const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(hop);
    if (!m || !m[2]) return `"${raw.trim()}" is not [user@]host[:port]`;
    const spec: JumpSpec = { host: m[2].replace(/^\[|\]$/g, '') };
    if (m[1]) spec.user = m[1];
    if (m[3]) {
      const port = Number(m[3]);
      if (port < 1 || port > 65535) return `port ${m[3]} in "${hop}" is out of range`;
      spec.port = port;
    }
    hops.push(spec);
  }
  return hops;
}

/** The most hops (including ones a bastion's own ProxyJump adds) before we call it a loop. */
export const MAX_JUMP_DEPTH = 8;
