/**
 * Hosts of the shared e2e lab handed out to scenarios, so that scenarios on different hosts run side by side (in
 * one file with describe.concurrent, or in files running in parallel workers) and never on the same host at once.
 * A claim is a file per host under <lab state>/claims/ naming the claiming process; a claim whose process is gone
 * is free again. Hosts a scenario changed are "dirty" and restored to pristine (the saved booted state, seconds)
 * before the next scenario gets them; clean ones are handed out first.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labReset, resetCost } from '../../src/lab/lab.js';
import { pidAlive, withLockFile } from '../../src/lab/lock-file.js';
import type { LabSettings } from '../../src/lab/settings.js';
import { hostNames, labPaths, readLabState, type VmRecord } from '../../src/lab/state.js';

/** How many hosts of which kind: `sameKind` hosts all of one kind (a canary and its batch). */
export interface ClaimRequest {
  intel?: number;
  amd?: number;
  any?: number;
  sameKind?: number;
  /** The scenario, for the claim files and the waiting message. */
  label: string;
  /** The scenario changes nothing: the hosts stay clean for the next one. Default false. */
  readOnly?: boolean;
  /** How long to wait for free hosts. Default 50 minutes. */
  timeoutMs?: number;
}

export interface Claim {
  /** In lab order: intel ones, then amd ones, then any, each group sorted. */
  hosts: string[];
  /** Free the hosts (they were marked dirty when claimed, unless the claim was read-only). */
  release(): void;
}

const claimsDir = (settings: LabSettings) => join(settings.stateDir, 'claims');
const claimFile = (settings: LabSettings, host: string) => join(claimsDir(settings), host);
export const dirtyFile = (vm: VmRecord) => join(vm.dir, 'dirty');

function claimedByLiveProcess(settings: LabSettings, host: string): boolean {
  const f = claimFile(settings, host);
  if (!existsSync(f)) return false;
  try {
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as { pid: number };
    if (pidAlive(pid)) return true;
  } catch {
    // unreadable: half-written by a process that died
  }
  rmSync(f, { force: true });
  return false;
}

export interface FreeHost {
  name: string;
  iommu: 'intel' | 'amd';
  dirty: boolean;
  index: number;
  /** A dirty host comes back from its saved state (seconds) rather than a cold boot (minutes). */
  restorable: boolean;
}

/** Pick hosts for the request among the free ones, cheapest to make pristine first; undefined when too few are free. */
export function pickHosts(free: FreeHost[], req: ClaimRequest): string[] | undefined {
  const cost = (h: FreeHost) => (!h.dirty ? 0 : h.restorable ? 1 : 2);
  const order = [...free].sort((a, b) => cost(a) - cost(b) || a.index - b.index);
  const taken = new Set<string>();
  const take = (n: number, ok: (h: (typeof order)[number]) => boolean): string[] | undefined => {
    const got = order.filter((h) => !taken.has(h.name) && ok(h)).slice(0, n);
    if (got.length < n) return undefined;
    got.forEach((h) => taken.add(h.name));
    return got.sort((a, b) => a.index - b.index).map((h) => h.name);
  };
  const groups: string[][] = [];
  for (const [n, ok] of [
    [req.intel ?? 0, (h: { iommu: string }) => h.iommu === 'intel'],
    [req.amd ?? 0, (h: { iommu: string }) => h.iommu === 'amd'],
  ] as const) {
    const got = take(n, ok);
    if (!got) return undefined;
    groups.push(got);
  }
  if (req.sameKind) {
    // The kind with more clean free hosts left, so a later request for the other kind is not starved.
    const kinds = (['intel', 'amd'] as const)
      .map((k) => ({ k, clean: order.filter((h) => !taken.has(h.name) && h.iommu === k && !h.dirty).length }))
      .sort((a, b) => b.clean - a.clean);
    let got: string[] | undefined;
    for (const { k } of kinds) if ((got = take(req.sameKind, (h) => h.iommu === k))) break;
    if (!got) return undefined;
    groups.push(got);
  }
  const any = take(req.any ?? 0, () => true);
  if (!any) return undefined;
  groups.push(any);
  return groups.flat();
}

async function hostCosts(settings: LabSettings): Promise<Map<string, 'restore' | 'cold'>> {
  const state = readLabState(labPaths(settings.stateDir));
  const names = state ? hostNames(state) : [];
  return new Map(await Promise.all(names.map(async (h) => [h, await resetCost(settings, h)] as const)));
}

/** Wait for free hosts matching the request, take them, and bring the dirty ones back to pristine. */
export async function claimHosts(settings: LabSettings, req: ClaimRequest): Promise<Claim> {
  const paths = labPaths(settings.stateDir);
  mkdirSync(claimsDir(settings), { recursive: true });
  const deadline = Date.now() + (req.timeoutMs ?? 50 * 60_000);
  let waitedSince = 0;
  for (;;) {
    const costs = await hostCosts(settings);
    const picked = await withLockFile(join(settings.stateDir, 'claims.lock'), 60_000, 'claim lab hosts', async () => {
      const state = readLabState(paths);
      if (!state) throw new Error('the e2e lab is not up');
      const free = hostNames(state)
        .filter((h) => !claimedByLiveProcess(settings, h))
        .map((h) => {
          const vm = state.hosts[h]!;
          return {
            name: h,
            iommu: vm.iommu,
            dirty: existsSync(dirtyFile(vm)),
            index: vm.index,
            restorable: costs.get(h) !== 'cold',
          };
        });
      const hosts = pickHosts(free, req);
      for (const h of hosts ?? [])
        writeFileSync(
          claimFile(settings, h),
          JSON.stringify({ pid: process.pid, label: req.label, at: new Date().toISOString() }),
        );
      return hosts;
    });
    if (picked) {
      if (waitedSince)
        console.info(
          `[lab claims] ${req.label}: got ${picked.join(', ')} after ${Math.round((Date.now() - waitedSince) / 1000)} s`,
        );
      const state = readLabState(paths)!;
      const release = () => {
        for (const h of picked) rmSync(claimFile(settings, h), { force: true });
      };
      try {
        for (const h of picked) {
          const vm = state.hosts[h]!;
          if (existsSync(dirtyFile(vm))) {
            await labReset(settings, h);
            rmSync(dirtyFile(vm), { force: true });
          }
          // Dirty from now on, not at release: a run killed mid-scenario still leaves its hosts to be restored.
          if (!req.readOnly) writeFileSync(dirtyFile(vm), `${req.label}\n`);
        }
      } catch (err) {
        for (const h of picked) rmSync(claimFile(settings, h), { force: true });
        throw err;
      }
      return { hosts: picked, release };
    }
    if (Date.now() > deadline)
      throw new Error(`${req.label}: no free lab hosts for ${JSON.stringify(req)} within the wait`);
    waitedSince ||= Date.now();
    await new Promise((r) => setTimeout(r, 2000));
  }
}
