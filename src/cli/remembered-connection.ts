/**
 * What `rollgate resume` needs to log in as the run did: the connection options kept with a rollout run (paths,
 * not secrets) and given back on resume unless given again.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../core/config-error.js';
import type { ConnectionOptions } from './options.js';

/**
 * How the run logged in, kept for resume: the ssh_config and sudo password file by path (never the password), the
 * connect timeout, and whether sudo's password was typed (-K: resume asks for it again). --accept-new-host-keys is
 * not kept: a resumed run reaches hosts whose keys the first one recorded, and takes no new key unasked.
 */
export interface RememberedConnection {
  sshConfig?: string;
  connectTimeout?: string;
  becomePasswordFile?: string;
  askBecomePass?: true;
}

export function rememberedConnection(opts: ConnectionOptions): RememberedConnection {
  return {
    ...(opts.sshConfig !== undefined ? { sshConfig: resolve(opts.sshConfig) } : {}),
    ...(opts.connectTimeout !== undefined ? { connectTimeout: opts.connectTimeout } : {}),
    ...(opts.becomePasswordFile !== undefined ? { becomePasswordFile: resolve(opts.becomePasswordFile) } : {}),
    ...(opts.askBecomePass ? { askBecomePass: true as const } : {}),
  };
}

/** The resumed run's connection options: the ones given again, else the run's own; -K must be given again. */
export function resumedConnection(
  runId: string,
  given: ConnectionOptions,
  was: RememberedConnection = {},
): ConnectionOptions {
  const becomeGiven = given.askBecomePass || given.becomePasswordFile !== undefined;
  if (was.askBecomePass && !becomeGiven)
    throw new ConfigError([
      {
        message: `run ${runId} was started with -K (sudo's password typed, never kept)`,
        hint: `give it again: rollgate resume ${runId} -K (or --become-password-file FILE)`,
      },
    ]);
  return {
    ...given,
    ...(given.sshConfig === undefined && was.sshConfig !== undefined ? { sshConfig: was.sshConfig } : {}),
    ...(given.connectTimeout === undefined && was.connectTimeout !== undefined
      ? { connectTimeout: was.connectTimeout }
      : {}),
    ...(!becomeGiven && was.becomePasswordFile !== undefined ? { becomePasswordFile: was.becomePasswordFile } : {}),
  };
}
