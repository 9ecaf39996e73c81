/**
 * Running playbooks in unit tests: a real local shell as each host's transport (commands really run, through
 * `sh -c`, in a throwaway directory), an inventory written to a temp file, and every event recorded.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionError,
  type Connection,
  type ExecOptions,
  type ExecResult,
} from '../../src/connection/connection.js';
import type { ShellFragment } from '../../src/connection/shell-quote.js';
import type { SshTarget } from '../../src/connection/target.js';
import { EventBus, type RollgateEvent } from '../../src/events/events.js';
import { runPlaybook, type PlaybookRunResult } from '../../src/executor/run-playbook.js';
import type { RunOptions } from '../../src/executor/run-context.js';
import type { FleetLock } from '../../src/journal/fleet-lock.js';
import { Journal } from '../../src/journal/journal.js';
import { loadInventory } from '../../src/load/inventory.js';
import { parsePlaybook } from '../../src/load/playbook.js';
import { planRun, type PlanOptions } from '../../src/plan/plan.js';

/** A Connection that runs each command with the local /bin/sh: real processes, no SSH. */
export function localConnection(host: string, cwd: string): Connection {
  return {
    host,
    exec(command: string | ShellFragment, options: ExecOptions = {}): Promise<ExecResult> {
      const text = typeof command === 'string' ? command : command.text;
      const started = Date.now();
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', text], {
          cwd,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: host },
          detached: true,
        });
        // Like SshConnection: past timeoutMs the command's process group is killed and the call throws `timeout`.
        const timer = options.timeoutMs
          ? setTimeout(() => {
              process.kill(-child.pid!, 'SIGKILL');
              reject(new ConnectionError('timeout', `${host}: command timed out after ${options.timeoutMs} ms`));
            }, options.timeoutMs)
          : undefined;
        child.on('close', () => clearTimeout(timer));
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) =>
          resolve({ stdout, stderr, exitCode: code, ...(signal ? { signal } : {}), durationMs: Date.now() - started }),
        );
      });
    },
    close: async () => {},
  };
}

export interface Ran {
  result: PlaybookRunResult;
  events: RollgateEvent[];
  journal: Journal;
  dir: string;
  /** task.result events as "host task status[ item]" lines, in order. */
  lines: string[];
}

export interface RunSpec extends PlanOptions {
  inventory: string;
  playbook: string;
  options?: Partial<RunOptions>;
  /** Hosts whose connection fails as unreachable. */
  down?: string[];
  /** The fleet lock given to the executor (default: the journal's own). */
  lock?: (journal: Journal) => FleetLock;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

export async function runYaml(spec: RunSpec): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-exec-'));
  dirs.push(dir);
  const invPath = join(dir, 'inventory.yml');
  writeFileSync(invPath, spec.inventory);
  const inventory = loadInventory(invPath);
  const playbook = parsePlaybook(spec.playbook, 'play.yml');
  const plan = planRun(inventory, playbook, spec);
  const targets = new Map<string, SshTarget>(
    // One machine per host: the fleet lock refuses one address:port under two names.
    plan.hosts.map((name, i) => [
      name,
      {
        name,
        address: '127.0.0.1',
        port: 10_022 + i,
        user: 'nobody',
        identityFiles: [],
        knownHostsFiles: [],
        hostKeyPolicy: 'strict',
        become: false,
      },
    ]),
  );
  const journal = Journal.open(':memory:');
  const bus = new EventBus();
  const events: RollgateEvent[] = [];
  bus.on((e) => events.push(e));
  const result = await runPlaybook({
    plan,
    inventory,
    targets,
    journal,
    lock: spec.lock ? spec.lock(journal) : journal.fleetLock(),
    bus,
    options: { check: false, diff: false, extraVars: {}, forks: 1, ...spec.options },
    playbookPath: 'play.yml',
    playbookDir: dir,
    inventorySources: [invPath],
    opener: async (target) => {
      if (spec.down?.includes(target.name))
        throw new ConnectionError('unreachable', `${target.name}: connect ECONNREFUSED 127.0.0.1:22`);
      return localConnection(target.name, dir);
    },
  });
  const lines = events.flatMap((e) =>
    e.type === 'task.result'
      ? [`${e.host} ${e.task} ${e.status}${e.ignored ? ' ignored' : ''}${e.item !== undefined ? ` ${e.item}` : ''}`]
      : [],
  );
  return { result, events, journal, dir, lines };
}

export const twoHosts = 'all:\n  hosts:\n    h1: {}\n    h2: {}\n';
