/**
 * A real PostgreSQL server for the tests (Debian's `postgresql`, installed by scripts/setup.sh): a fresh cluster
 * in a temporary directory, run as the `postgres` system user, listening only on a Unix socket in that directory
 * (no TCP at all), trusted for the `rollgate` role. `stop()` shuts it down and removes it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** Connection string for the `postgres` database as role `rollgate`. */
  url: string;
  /** A new empty database on this server (a unique name per call), as a connection string: one per test case. */
  freshDatabase(): Promise<string>;
  /** Stop the server at once (`pg_ctl stop -m immediate`, every connection dropped as in a crash); the data stays. */
  halt(): Promise<void>;
  /** Start the halted server again, on the same socket and port. */
  start(): Promise<void>;
  /** End every connection to `url`'s database but this one (pg_terminate_backend); how many were ended. */
  terminateConnections(url: string): Promise<number>;
  stop(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length)
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql (apt install postgresql: scripts/setup.sh)',
    );
  return join(root, versions.sort((x, y) => Number(y) - Number(x))[0]!, 'bin');
}

const run = promisify(execFile);

/** Asynchronous: initdb on a loaded machine may take longer than a vitest worker may block. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'rg-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const asPostgres = async (cmd: string, args: string[]) => {
    try {
      await run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout: 180_000, cwd: dir });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${cmd} failed: ${e.stderr || e.stdout || e.message}`);
    }
  };
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'rollgate', '--no-sync']);
  const port = String(20000 + (process.pid % 20000));
  const start = () =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off`,
      'start',
    ]);
  await start();
  const url = `postgres://rollgate@localhost/postgres?host=${encodeURIComponent(dir)}&port=${port}`;
  let made = 0;
  return {
    url,
    async freshDatabase() {
      const name = `db${process.pid}_${made++}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url.replace('/postgres?', `/${name}?`);
    },
    halt: () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']),
    start,
    async terminateConnections(dbUrl) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [new URL(dbUrl).pathname.slice(1)],
        );
        return rows.length;
      } finally {
        await admin.end();
      }
    },
    stop() {
      spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], {
        timeout: 60_000,
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
