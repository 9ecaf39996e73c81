/**
 * docker/compose.yaml started for real with Debian 12's podman-compose (1.0.3), on the tests' podman (support/
 * container.ts: runc, cgroupfs, the tests' storage, netavark + aardvark-dns so the services find each other by
 * name on the compose network).
 *
 * No registry is reachable, so the official PostgreSQL image compose.yaml names cannot be pulled: the tests build
 * a stand-in (support/postgres-standin/) from the locally made Debian base with Debian's postgresql-15 and an
 * entrypoint honouring the part of the official image's contract compose.yaml uses, and point compose.yaml's
 * ROLLGATE_POSTGRES_IMAGE at it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BASE_IMAGE, type Podman } from './container.js';

export const POSTGRES_STANDIN_IMAGE = 'localhost/rollgate-postgres-standin:15';
const STANDIN_DIR = resolve(import.meta.dirname, 'postgres-standin');

/** The stand-in PostgreSQL image, built (or taken from podman's layer cache) from the local Debian base. */
export async function buildPostgresStandin(podman: Podman): Promise<void> {
  const built = await podman(
    [
      'build',
      '--isolation',
      'chroot',
      '--pull=never',
      '--build-arg',
      `BASE=${BASE_IMAGE}`,
      '-f',
      join(STANDIN_DIR, 'Containerfile'),
      '-t',
      POSTGRES_STANDIN_IMAGE,
      STANDIN_DIR,
    ],
    900_000,
  );
  if (built.code !== 0)
    throw new Error(`podman build of the PostgreSQL stand-in failed:\n${built.stderr.slice(-4000)}`);
}

export interface ComposeResult {
  /** podman-compose's own exit status: 0 even when the container failed (1.0.3 does not pass it on). */
  code: number;
  /** The exit status of the last podman command podman-compose ran (its "exit code: N" line), else null. */
  podmanCode: number | null;
  stdout: string;
  stderr: string;
}

export interface Compose {
  /** podman-compose -p project -f file ARGS; never rejects; killed after timeoutMs. */
  (args: string[], timeoutMs?: number): Promise<ComposeResult>;
  project: string;
}

/**
 * podman-compose for one compose file and project on the tests' podman: a `podman` wrapper carrying the tests'
 * --root/--runroot (podman-compose puts --podman-args after the subcommand, where `podman network` refuses them),
 * the tests' containers.conf, and env for the file's ${...} (HOME, ROLLGATE_IMAGE, ...).
 */
export function composeFor(
  podman: Podman,
  opts: { dir: string; file: string; project: string; env: Record<string, string> },
): Compose {
  const wrapper = join(opts.dir, 'podman');
  writeFileSync(wrapper, `#!/bin/sh\nexec podman --root '${podman.root}' --runroot '${podman.runroot}' "$@"\n`, {
    mode: 0o755,
  });
  const c = ((args: string[], timeoutMs = 300_000) =>
    new Promise<ComposeResult>((done) => {
      const child = spawn(
        'podman-compose',
        ['--podman-path', wrapper, '--no-ansi', '-p', opts.project, '-f', opts.file, ...args],
        {
          env: { ...process.env, CONTAINERS_CONF: podman.conf, ...opts.env },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        stderr += `\n(killed after ${timeoutMs} ms)`;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        const hint = 'podman-compose not found: apt install podman-compose (scripts/setup.sh)';
        done({ code: 127, podmanCode: null, stdout, stderr: `${err.message}: ${hint}` });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const codes = [...stdout.matchAll(/^exit code: (\d+)$/gm)];
        const last = codes.at(-1);
        done({ code: code ?? 137, podmanCode: last ? Number(last[1]) : null, stdout, stderr });
      });
    })) as Compose;
  c.project = opts.project;
  return c;
}
