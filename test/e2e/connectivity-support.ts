/**
 * Helpers of the connectivity and before-boot scenarios (rollout-connectivity.test.ts, rollout-before-boot.test.ts):
 * a scenario on claimed lab hosts, plain CLI commands without --json (unlock), an inventory whose host has no
 * power driver, and the events of one host.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import type { RollgateEvent } from '../../src/events/events.js';
import type { ClaimRequest } from './lab-claims.js';
import type { Lab } from './lab-harness.js';
import { JOURNAL, ROOT } from './rollout-support.js';

/** Run a scenario on claimed hosts, releasing them (dirty: the next claim restores them) whatever happens. */
export async function onClaimed(lab: Lab, req: ClaimRequest, fn: (hosts: string[]) => Promise<void>): Promise<void> {
  const claim = await lab.claim(req);
  try {
    await fn(claim.hosts);
  } finally {
    claim.release();
  }
}

/** `rollgate ARGS --journal JOURNAL` as a person types it (plain output), within `timeoutMs`. */
export async function rollgatePlain(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'rollgate.js'), ...args, '--journal', JOURNAL], {
    cwd: ROOT,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.on('close', r)).finally(() => clearTimeout(timer));
  return { code, stdout, stderr };
}

/** A copy of the lab inventory in which `host` has no `rollgate_power` (its console log stays, as evidence). */
export function inventoryWithoutPower(lab: Lab, host: string): string {
  const doc = load(readFileSync(lab.inventoryFile, 'utf8')) as {
    all: { children: { lab: { hosts: Record<string, Record<string, unknown>> } } };
  };
  const entry = doc.all.children.lab.hosts[host];
  if (!entry?.rollgate_power) throw new Error(`${lab.inventoryFile}: ${host} has no rollgate_power to take away`);
  delete entry.rollgate_power;
  const file = join(JOURNAL, '..', `lab-no-power-${host}.yml`);
  writeFileSync(file, dump(doc, { lineWidth: 200 }));
  return file;
}

export const ofHost = (events: RollgateEvent[], host: string) => events.filter((e) => 'host' in e && e.host === host);
export const elapsed = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;
