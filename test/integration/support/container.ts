/**
 * Debian's podman for the container tests, set up as ../shared/CONTAINER-NOTES.md found it works on these
 * machines: runc (crun fails here), cgroupfs, no default ulimits, chroot isolation for builds; a storage root of
 * the tests' own so nothing lands in the machine's image store. No registry is reachable, so the Dockerfile's
 * default base (`node:20-bookworm-slim`) is made locally: debootstrap --variant=minbase bookworm from the host's
 * Debian mirror, this machine's Node.js 20 and npm copied in, `podman import`ed under that name. The root file
 * system is cached (a tarball keyed by the mirror and the Node version) so later runs import it in seconds.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { labSettings } from '../../../src/lab/settings.js';

const run = promisify(execFile);

export const BASE_IMAGE = 'docker.io/library/node:20-bookworm-slim';

export interface Podman {
  /** podman with the tests' configuration and storage; never rejects: the caller asserts on code and output. */
  (args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  root: string;
  runroot: string;
  /** The containers.conf it runs with (CONTAINERS_CONF). */
  conf: string;
}

function cacheDir(): string {
  const home = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(home, 'rollgate', 'container');
}

export function podmanFor(dir: string): Podman {
  const conf = join(dir, 'containers.conf');
  // netavark (with aardvark-dns: containers on a network find each other by name, as compose.yaml's controllers
  // find `postgres`; CNI without the dnsname plugin does not), its networks' files in the test's directory.
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = []',
      '',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'runtime = "runc"',
      '',
      '[network]',
      'network_backend = "netavark"',
      `network_config_dir = "${join(dir, 'networks')}"`,
      '',
    ].join('\n'),
  );
  const root = join(cacheDir(), 'storage');
  // Fixed: podman's database remembers its run root and refuses another one.
  const runroot = '/run/rollgate-podman';
  mkdirSync(root, { recursive: true });
  const p = (async (args: string[], timeoutMs = 600_000) => {
    try {
      const r = await run('podman', ['--root', root, '--runroot', runroot, ...args], {
        env: { ...process.env, CONTAINERS_CONF: conf },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
      return { code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: e.stderr || e.message };
    }
  }) as Podman;
  p.root = root;
  p.runroot = runroot;
  p.conf = conf;
  return p;
}

/** What the base is made from: the Node version and the Debian mirror. */
function baseKey(): string {
  const { mirror } = labSettings(process.env);
  return `${process.version}-${Buffer.from(mirror).toString('base64url').slice(0, 40)}`;
}

/** The base image's root file system as a tarball, made once per mirror and Node version. */
async function baseTarball(key: string): Promise<string> {
  const { mirror } = labSettings(process.env);
  const node = realpathSync(process.execPath);
  const dir = cacheDir();
  const tar = join(dir, `bookworm-node-${key}.tar`);
  if (existsSync(tar)) return tar;
  const root = join(dir, `root-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(dir, 'debs'), { recursive: true });
  try {
    await run(
      'debootstrap',
      [
        '--variant=minbase',
        '--include=openssh-client,ipmitool,ca-certificates',
        `--cache-dir=${join(dir, 'debs')}`,
        'bookworm',
        root,
        mirror,
      ],
      { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // Node.js and npm as the machine has them (the Node project's image has them under /usr/local too).
    cpSync(node, join(root, 'usr/local/bin/node'));
    const npmCli = realpathSync(join(dirname(node), 'npm'));
    const npmRoot = resolve(dirname(npmCli), '..');
    cpSync(npmRoot, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    await run('tar', ['-C', root, '-cf', `${tar}.part`, '.'], { timeout: 300_000 });
    renameSync(`${tar}.part`, tar);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tar;
}

/** `node:20-bookworm-slim` in the tests' image store, made locally when it is not there. */
export async function ensureBaseImage(podman: Podman): Promise<void> {
  const key = baseKey();
  const marker = join(podman.root, 'base-image-key');
  const current = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  if (current === key && (await podman(['image', 'exists', BASE_IMAGE])).code === 0) return;
  const tar = await baseTarball(key);
  const imported = await podman(['import', tar, BASE_IMAGE], 600_000);
  if (imported.code !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
  writeFileSync(marker, key);
}
