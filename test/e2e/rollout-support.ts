/**
 * Rollouts on the lab VMs as an operator runs them: `rollgate rollout ... --json` as a child process (so kill -9
 * is real), its events read line by line as they come, `rollgate resume` / `show` / `runs` afterwards, and
 * what the VMs say (cmdline, grubenv, boot ids, hashes of the files a play may touch).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RollgateEvent } from '../../src/events/events.js';
import type { Lab } from './lab-harness.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The e2e runs' journal, kept after the run for bench/rollback-times.mjs. */
export const JOURNAL = process.env.ROLLGATE_E2E_JOURNAL ?? join(ROOT, '.local-fleet', 'e2e-rollout', 'journal.db');
mkdirSync(join(JOURNAL, '..'), { recursive: true });

export interface CliProcess {
  child: ChildProcess;
  events: RollgateEvent[];
  stderr: () => string;
  /** Resolves with the first event (seen or to come) that matches. */
  until(match: (e: RollgateEvent) => boolean, timeoutMs?: number): Promise<RollgateEvent>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; events: RollgateEvent[] }>;
}

/** `rollgate ARGS --json --journal JOURNAL`, events parsed as they arrive. */
export function cli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), ...args, '--json', '--journal', JOURNAL], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: RollgateEvent[] = [];
  const waiters: Array<{ match: (e: RollgateEvent) => boolean; resolve: (e: RollgateEvent) => void }> = [];
  let buf = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as RollgateEvent;
      events.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    }
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; events: RollgateEvent[] }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, events })),
  );
  return {
    child,
    events,
    done,
    stderr: () => err,
    until(match, timeoutMs = 30 * 60_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(
          () =>
            rej(
              new Error(`no matching event within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-3))}\n${err}`),
            ),
          timeoutMs,
        );
        waiters.push({ match, resolve: (e) => (clearTimeout(t), res(e)) });
        void done.then(() =>
          rej(new Error(`rollgate exited before a matching event; last: ${JSON.stringify(events.slice(-3))}\n${err}`)),
        );
      });
    },
  };
}

/** Bind the lab NIC (e1000e) to vfio-pci and boot: with `no-vfio-after-boot` armed, a trial that cannot verify. */
export const VFIO_PLAY = `- name: Bind the NIC to vfio-pci
  hosts: all
  become: true
  tasks:
    - vfio_bind: { ids: ["8086:10d3"] }
    - reboot: { reason: vfio-pci for the NIC }
`;

/** `rollgate show RUN` (plain text). */
export async function show(runId: string, host?: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'rollgate.js'), 'show', runId, '--journal', JOURNAL, ...(host ? ['--host', host] : [])],
    { cwd: ROOT },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('close', r));
  return out;
}

/** A playbook written for one test. */
export function playbookFile(name: string, text: string): string {
  const file = join(JOURNAL, '..', name);
  writeFileSync(file, text);
  return file;
}

export const finishedOf = (events: RollgateEvent[]) =>
  Object.fromEntries(events.filter((e) => e.type === 'rollout.host_finished').map((e) => [e.host, e.status]));
/**
 * What a run did, compact, for an assertion's message: each host's steps, rollbacks, verification failures, the
 * needs-a-person reason and how it finished, then the tail of stderr. CI keeps only part of the output, so a failed
 * scenario must say why in its own assertion.
 */
export function storyOf(events: RollgateEvent[], stderr = ''): string {
  const lines = events.flatMap((e): string[] => {
    switch (e.type) {
      case 'rollout.host_step':
        return [`${e.host}: ${e.step}: ${e.status}${e.message ? ` (${e.message.slice(0, 300)})` : ''}`];
      case 'rollout.rollback':
        return [`${e.host}: ROLLBACK ${e.action}: ${e.reason.slice(0, 300)}`];
      case 'rollout.verification':
        return [
          `${e.host}: verification (${e.against}) ${e.ok ? 'passed' : 'FAILED'}${e.checks
            .filter((c) => !c.ok)
            .map(
              (c) =>
                ` | ${c.name}: expected ${String(c.expected).slice(0, 120)}, found ${String(c.actual).slice(0, 120)}`,
            )
            .join('')}`,
        ];
      case 'rollout.needs_person':
        return [`${e.host}: NEEDS A PERSON: ${e.reason.slice(0, 500)}`];
      case 'rollout.host_finished':
        return [`${e.host}: ${e.status}: ${e.message.slice(0, 500)}`];
      default:
        return [];
    }
  });
  return `\n${lines.join('\n')}\n${stderr.slice(-1500)}`;
}
export const runIdOf = (events: RollgateEvent[]) =>
  (events.find((e) => 'runId' in e) as { runId: string } | undefined)?.runId ?? '';

/** One root command on a lab VM; throws with its output when it fails. */
export async function onHost(lab: Lab, host: string, script: string): Promise<string> {
  const conn = await lab.connect(host, 'root');
  try {
    const r = await conn.exec(script, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new Error(`${host}: ${script}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  } finally {
    await conn.close();
  }
}

/** What a play may touch on a host: boot config, modprobe.d, the kernel set and initramfs (sha256 per file). */
export const FILES_HASH =
  'cd / && find etc/default/grub etc/default/grub.d etc/modprobe.d etc/initramfs-tools/modules etc/grub.d boot -xdev -type f ! -name grubenv 2>/dev/null | sort | xargs sha256sum';
export const GRUBENV = 'grub-editenv list';

/**
 * `rollgate report RUN -o FILE` of a run in the e2e journal, laid out by headless chromium: the DOM the browser
 * built (what a person sees), for assertions.
 */
export async function reportDom(runId: string): Promise<string> {
  const file = join(JOURNAL, '..', `report-${runId}.html`);
  const run = (cmd: string, args: string[]) =>
    new Promise<string>((res, rej) =>
      execFile(cmd, args, { cwd: ROOT, timeout: 180_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
        err ? rej(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : res(stdout),
      ),
    );
  await run(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), 'report', runId, '-o', file, '--journal', JOURNAL]);
  return run('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`]);
}
