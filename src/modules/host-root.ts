/**
 * A host's filesystem root and the tools found under it. Modules think in host paths ('/etc/default/grub');
 * `rollgate_root` (a host variable, default '/') moves every file they read or write, and every tool they run,
 * under another directory. Integration tests use it to run the real modules over real SSH against a throwaway
 * tree; on real hosts and lab VMs it stays '/' and nothing changes.
 *
 * Tools: with root '/', a tool is whatever `command -v` finds on the host (PATH plus the sbin directories).
 * With any other root, a tool is only ever taken from inside that root (usr/local/sbin, usr/local/bin, usr/sbin,
 * usr/bin, sbin, bin): a missing tool counts as "not installed" and never falls back to the machine's own
 * update-grub or update-initramfs. Tools run with ROLLGATE_ROOT set to the root when it is not '/', and are
 * given host paths (as on a real host): a test double maps them under $ROLLGATE_ROOT itself.
 */
import type { Connection } from '../connection/connection.js';
import { sh, raw, type ShellFragment, type ShellValue } from '../connection/shell-quote.js';
import { ModuleFailure } from './module.js';

export interface HostRoot {
  /** Absolute, normalised, no trailing slash except for '/' itself. */
  root: string;
  /** Where a host path lives under the root: path('/etc/default/grub'). */
  path(hostPath: string): string;
  /** The host path of a rooted path (inverse of `path`). */
  hostPath(rootedPath: string): string;
}

export function makeHostRoot(root: string): HostRoot {
  // Control characters are refused: paths travel one per line in command output.
  if (
    !root.startsWith('/') ||
    root.split('/').some((part) => part === '..' || part === '.') ||
    /[\x00-\x1f\x7f]/.test(root)
  ) {
    throw new ModuleFailure(
      `rollgate_root must be an absolute path without "." or ".." parts or control characters, got ${JSON.stringify(root)}`,
    );
  }
  const norm = root.replace(/\/+/g, '/').replace(/\/$/, '') || '/';
  return {
    root: norm,
    path: (p) => (norm === '/' ? p : `${norm}${p.startsWith('/') ? '' : '/'}${p}`),
    hostPath: (p) => (norm === '/' ? p : p.startsWith(`${norm}/`) ? p.slice(norm.length) : p),
  };
}

/** The root a module works under, from the task's variables (`rollgate_root`, default '/'). */
export function hostRootFromVars(vars: Record<string, unknown>): HostRoot {
  const value = vars.rollgate_root;
  if (value === undefined || value === null || value === '') return makeHostRoot('/');
  if (typeof value !== 'string') throw new ModuleFailure(`rollgate_root must be a string path, got ${typeof value}`);
  return makeHostRoot(value);
}

const ROOT_TOOL_DIRS = ['usr/local/sbin', 'usr/local/bin', 'usr/sbin', 'usr/bin', 'sbin', 'bin'];

/** Find tools by name; absent ones are missing from the result. One command for all names. */
export async function findTools(
  conn: Connection,
  hr: HostRoot,
  names: readonly string[],
): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const script =
    hr.root === '/'
      ? sh`PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; for t in ${[...names]}; do p=$(command -v "$t" 2>/dev/null) && case "$p" in /*) printf '%s\\t%s\\n' "$t" "$p";; esac; done; true`
      : sh`for t in ${[...names]}; do for d in ${ROOT_TOOL_DIRS}; do if [ -f ${hr.root}/"$d/$t" ] && [ -x ${hr.root}/"$d/$t" ]; then printf '%s\\t%s\\n' "$t" ${hr.root}/"$d/$t"; break; fi; done; done; true`;
  const r = await conn.exec(script);
  const found: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const [name, path] = line.split('\t');
    if (name && path && names.includes(name)) found[name] = path;
  }
  return found;
}

/** A command line running a found tool, with ROLLGATE_ROOT set when the root is not '/'. */
export function toolCommand(hr: HostRoot, toolPath: string, args: readonly ShellValue[] = []): ShellFragment {
  const env = hr.root === '/' ? raw('') : sh`ROLLGATE_ROOT=${hr.root} `;
  return args.length ? sh`${env}${toolPath} ${[...args]}` : sh`${env}${toolPath}`;
}

/** Run a command and throw ModuleFailure (with the stderr tail) unless it exits 0. */
export async function runChecked(
  conn: Connection,
  command: ShellFragment | string,
  what: string,
  timeoutMs?: number,
): Promise<string> {
  const r = await conn.exec(command, timeoutMs ? { timeoutMs } : {});
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
    throw new ModuleFailure(`${what} failed (exit ${r.exitCode ?? r.signal}): ${tail}`, false, {
      exitCode: r.exitCode,
      stderrTail: tail,
    });
  }
  return r.stdout;
}
