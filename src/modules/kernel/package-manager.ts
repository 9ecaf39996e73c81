/**
 * Kernel packages through apt (Debian/Ubuntu: linux-image-RELEASE, apt-mark hold) or dnf (Fedora/RHEL:
 * kernel-RELEASE, dnf versionlock). Commands are built here, run by the module; queries are read-only.
 */
import type { Connection } from '../../connection/connection.js';
import { raw } from '../../connection/shell-quote.js';
import { findTools, runChecked, toolCommand, type HostRoot } from '../host-root.js';

export interface PackageManager {
  kind: 'apt' | 'dnf';
  packageFor(release: string): string;
  install(packages: readonly string[]): string;
  remove(packages: readonly string[]): string;
  hold(pkg: string): string;
  unhold(pkg: string): string;
  /** Packages held (apt-mark showhold / dnf versionlock list). */
  held(conn: Connection): Promise<string[]>;
  /** What `state: latest` would install: the upgrade command and the kernel releases it brings in. */
  upgrade(conn: Connection): Promise<{ command: string; releases: string[] }>;
}

const APT_ENV = 'DEBIAN_FRONTEND=noninteractive';

/** `Inst linux-image-6.1.0-51-amd64 (...)` lines of `apt-get -s` → releases. Pure. */
export function parseAptSimulation(output: string): string[] {
  return [...output.matchAll(/^Inst linux-image-(\d[^\s]*?)(?:-unsigned)? /gm)].map((m) => m[1]!);
}

/** `dnf check-update kernel` lines like `kernel.x86_64  6.5.7-300.fc39  updates` → releases. Pure. */
export function parseDnfCheckUpdate(output: string): string[] {
  return [...output.matchAll(/^kernel\.(\S+)\s+(\S+)\s+\S+/gm)].map((m) => `${m[2]}.${m[1]}`);
}

export async function detectPackageManager(conn: Connection, hr: HostRoot): Promise<PackageManager | null> {
  const t = await findTools(conn, hr, ['apt-get', 'apt-mark', 'dpkg-query', 'dnf']);
  const cmd = (tool: string, args: string[]) => toolCommand(hr, tool, args).text;
  if (t['apt-get']) {
    const aptGet = t['apt-get'];
    const aptMark = t['apt-mark'] ?? 'apt-mark';
    return {
      kind: 'apt',
      packageFor: (r) => `linux-image-${r}`,
      install: (p) => `${APT_ENV} ${cmd(aptGet, ['install', '-y', '--no-install-recommends', ...p])}`,
      remove: (p) => `${APT_ENV} ${cmd(aptGet, ['remove', '-y', ...p])}`,
      hold: (p) => cmd(aptMark, ['hold', p]),
      unhold: (p) => cmd(aptMark, ['unhold', p]),
      held: async (c) =>
        (await runChecked(c, raw(cmd(aptMark, ['showhold'])), 'apt-mark showhold')).split('\n').filter(Boolean),
      upgrade: async (c) => {
        const list = t['dpkg-query']
          ? await runChecked(
              c,
              raw(cmd(t['dpkg-query'], ['-W', '-f=${Package} ${Status}\\n', 'linux-image-*'])),
              'dpkg-query',
            )
          : '';
        const metas = list
          .split('\n')
          .filter((l) => l.endsWith(' install ok installed'))
          .map((l) => l.split(' ')[0]!)
          .filter((p) => !/^linux-image-\d/.test(p));
        if (metas.length === 0) return { command: '', releases: [] };
        const sim = await runChecked(
          c,
          raw(`${APT_ENV} ${cmd(aptGet, ['-s', 'install', '--only-upgrade', ...metas])}`),
          'apt-get -s',
        );
        return {
          command: `${APT_ENV} ${cmd(aptGet, ['install', '-y', '--only-upgrade', ...metas])}`,
          releases: parseAptSimulation(sim),
        };
      },
    };
  }
  if (t.dnf) {
    const dnf = t.dnf;
    return {
      kind: 'dnf',
      packageFor: (r) => `kernel-${r}`,
      install: (p) => cmd(dnf, ['install', '-y', ...p]),
      remove: (p) => cmd(dnf, ['remove', '-y', ...p]),
      hold: (p) => cmd(dnf, ['versionlock', 'add', p]),
      unhold: (p) => cmd(dnf, ['versionlock', 'delete', p]),
      held: async (c) =>
        (await runChecked(c, raw(cmd(dnf, ['-q', 'versionlock', 'list'])), 'dnf versionlock list'))
          .split('\n')
          .filter(Boolean),
      upgrade: async (c) => {
        // check-update exits 100 when updates exist, 0 when none: both are answers.
        const r = await c.exec(raw(cmd(dnf, ['-q', 'check-update', 'kernel'])));
        if (r.exitCode !== 0 && r.exitCode !== 100) throw new Error(`dnf check-update failed: ${r.stderr.trim()}`);
        return { command: cmd(dnf, ['upgrade', '-y', 'kernel']), releases: parseDnfCheckUpdate(r.stdout) };
      },
    };
  }
  return null;
}
