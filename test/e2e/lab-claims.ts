/**
 * Hosts of the shared e2e lab handed out to scenarios, so that scenarios on different hosts run side by side (in
 * one file with describe.concurrent, or in files running in parallel workers) and never on the same host at once.
 * A claim is a file per host under <lab state>/claims/ naming the claiming process; a claim whose process is gone
 * is free again. Hosts a scenario changed are "dirty" and restored to pristine (the saved booted state, seconds)
 * before the next scenario gets them; clean ones are handed out first.
 * Requests are served in the order they came (a ticket per waiting request under <lab state>/claims-queue/): an
 * earlier request that can be served now has its hosts set aside, one that cannot keeps the free hosts it will
 * need (no more) from later requests. Without that, a scenario needing three Intel hosts at once waited out its whole hook
 * timeout while one-host scenarios kept taking Intel hosts as they came free.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
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
  /**
   * Served before requests of a lower priority (then bigger requests first, then first come, first served). What
   * a CI run whose budget runs out (ROLLGATE_E2E_END) must still prove goes first: 2 every rollback path (the
   * rollout faults, link-down + resume); 1 the jobs rollgate exists for and the paths that end before a reboot (the
   * main rollout, onboarding, a kernel update, no power driver, before-boot); 0 the rest; -1 the lab's own
   * boot-and-fault self-tests (the rollback scenarios use the same faults). Default 0.
   */
  priority?: number;
  /**
   * Served only when no other request waits: for a scenario that boots VMs of its own (the systemd-boot lab) and
   * takes a shared host only as its turn, so that its load comes after every scenario of the shared lab has its
   * hosts, and its budget check (`estimateMin`) is made then. Default false.
   */
  last?: boolean;
  /** The test's `skip` (vitest context): called instead of claiming once the run's e2e budget is spent. */
  skip?: (note: string) => void;
  /**
   * About how many minutes the scenario takes once it has its hosts, on a loaded two-core TCG machine (CI):
   * under ROLLGATE_E2E_END it starts only if it can finish by then. Default 20.
   */
  estimateMin?: number;
}

/** Thrown by a claim made past the e2e budget by a caller without `skip` (a beforeAll): skip its tests. */
export class BudgetSpent extends Error {}

const DEFAULT_ESTIMATE_MIN = 20;

/**
 * The run's e2e budget, so that a whole CI run stays within its time limit on a slow machine: `.ci/run` sets
 * ROLLGATE_E2E_END (epoch seconds) and a scenario starts only if its estimate (`estimateMin`) ends before it, so a
 * short one still runs late where a long one would overrun; ROLLGATE_E2E_DEADLINE (epoch seconds) is the older
 * "no scenario starts after this". A scenario that cannot start is skipped, loudly (printed and listed at the end
 * of the run), never started; with neither set (every local run) nothing is skipped.
 */
export function budgetNote(label: string, estimateMin = DEFAULT_ESTIMATE_MIN): string | undefined {
  const now = Date.now() / 1000;
  const end = Number(process.env.ROLLGATE_E2E_END);
  if (Number.isFinite(end) && end > 0 && now + estimateMin * 60 > end) {
    const at = new Date(end * 1000).toISOString().slice(11, 16);
    return `${label}: NOT RUN: it takes about ${estimateMin} min and the e2e budget of this run ends at ${at} UTC (ROLLGATE_E2E_END)`;
  }
  const deadline = Number(process.env.ROLLGATE_E2E_DEADLINE);
  if (!Number.isFinite(deadline) || deadline <= 0 || now < deadline) return undefined;
  return `${label}: NOT RUN: the e2e budget of this run (ROLLGATE_E2E_DEADLINE) was spent before its lab hosts were free`;
}

export interface Claim {
  /** In lab order: intel ones, then amd ones, then any, each group sorted. */
  hosts: string[];
  /** Free the hosts (they were marked dirty when claimed, unless the claim was read-only). */
  release(): void;
}

const claimsDir = (settings: LabSettings) => join(settings.stateDir, 'claims');

/** The highest priority a scenario has (the rollback paths). */
export const TOP_PRIORITY = 2;
/**
 * How long after the lab came up requests below TOP_PRIORITY are not served: every e2e file asks at once, but a
 * file whose scenarios run concurrently registers them a moment later than a file with one, and a lower-priority
 * scenario served first keeps its hosts for its whole run (a CI run then skipped the rollback paths by budget
 * while onboarding and kernel updates ran).
 */
export const SETTLE_MS = 60_000;
/**
 * How long after the lab came up even the rollback paths wait, so that all of them are in the queue before any is
 * served and the biggest goes first: the files' ensureLab return seconds apart, and in a CI run the first three
 * rollback scenarios to ask took six of the eight hosts at once while the three-host link-down came a moment
 * later, found two hosts of different kinds and waited for half the run.
 */
export const TOP_SETTLE_MS = 20_000;
const openFile = (settings: LabSettings) => join(settings.stateDir, 'claims-open');

/** The lab is up and scenarios may claim it: the settling window starts now (once per lab start). */
export function markLabOpen(settings: LabSettings): void {
  try {
    writeFileSync(openFile(settings), String(Date.now()), { flag: 'wx' });
  } catch {
    // already open: the first file to see the lab up set the time
  }
}

/** Forget when the lab opened (a new run's first file sets it again). */
export function clearLabOpen(settings: LabSettings): void {
  rmSync(openFile(settings), { force: true });
}

/** Whether `req` must wait for the settling window to end (opened: when the lab opened, epoch ms). */
export function settling(req: Pick<ClaimRequest, 'priority'>, opened: number | undefined, now: number): boolean {
  if (opened === undefined) return false;
  return now < opened + ((req.priority ?? 0) < TOP_PRIORITY ? SETTLE_MS : TOP_SETTLE_MS);
}

function openedAt(settings: LabSettings): number | undefined {
  try {
    const at = Number(readFileSync(openFile(settings), 'utf8'));
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}
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

/** Clean hosts first, then those restored in seconds, then those that need a cold boot; in lab order within each. */
function cheapestFirst(free: FreeHost[]): FreeHost[] {
  const cost = (h: FreeHost) => (!h.dirty ? 0 : h.restorable ? 1 : 2);
  return [...free].sort((a, b) => cost(a) - cost(b) || a.index - b.index);
}

/** Pick hosts for the request among the free ones, cheapest to make pristine first; undefined when too few are free. */
export function pickHosts(free: FreeHost[], req: ClaimRequest): string[] | undefined {
  const order = cheapestFirst(free);
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

/**
 * The free hosts a request that cannot be served yet keeps from later requests: as many as it asks for of each
 * kind, cheapest first (for `sameKind`, of the kind with more free hosts), so that it fills up as hosts come free
 * while the rest of the lab keeps working.
 */
export function setAside(free: FreeHost[], req: ClaimRequest): string[] {
  const order = cheapestFirst(free);
  const kept = new Set<string>();
  const keep = (n: number, ok: (h: FreeHost) => boolean) => {
    for (const h of order.filter((x) => !kept.has(x.name) && ok(x)).slice(0, n)) kept.add(h.name);
  };
  keep(req.intel ?? 0, (h) => h.iommu === 'intel');
  keep(req.amd ?? 0, (h) => h.iommu === 'amd');
  if (req.sameKind) {
    const count = (k: string) => order.filter((h) => !kept.has(h.name) && h.iommu === k).length;
    const kind = count('intel') >= count('amd') ? 'intel' : 'amd';
    keep(req.sameKind, (h) => h.iommu === kind);
  }
  keep(req.any ?? 0, () => true);
  return [...kept];
}

/**
 * First come, first served: walk the waiting requests in order of arrival; each earlier one that can be served
 * now sets its hosts aside, each that cannot sets aside the free hosts it will need (setAside). Returns the hosts
 * for `mine` (the index of this request in `queue`), or undefined to wait.
 */
export function pickInTurn(free: FreeHost[], queue: ClaimRequest[], mine: number): string[] | undefined {
  let left = free;
  for (let i = 0; i < queue.length; i++) {
    const req = queue[i]!;
    if (i === mine) return req.last && queue.length > 1 ? undefined : pickHosts(left, req);
    const got = pickHosts(left, req);
    const kept = got ?? setAside(left, req);
    left = left.filter((h) => !kept.includes(h.name));
  }
  return undefined;
}

const queueDir = (settings: LabSettings) => join(settings.stateDir, 'claims-queue');

/** The waiting requests of live processes in the order they are served (a dead process's tickets are removed). */
function readQueue(settings: LabSettings): Array<{ file: string; req: ClaimRequest }> {
  const dir = queueDir(settings);
  const out: Array<{ file: string; req: ClaimRequest }> = [];
  for (const file of readdirSync(dir).sort()) {
    try {
      const t = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { pid: number; req: ClaimRequest };
      if (pidAlive(t.pid)) {
        out.push({ file, req: t.req });
        continue;
      }
    } catch {
      // half-written by a process that died
    }
    rmSync(join(dir, file), { force: true });
  }
  return inServiceOrder(out);
}

/** How many hosts a request takes at once. */
export function claimSize(req: ClaimRequest): number {
  return (req.intel ?? 0) + (req.amd ?? 0) + (req.any ?? 0) + (req.sameKind ?? 0);
}

/**
 * Higher priority first; within a priority, requests for more hosts first (the three-host rollouts are placed
 * while the lab is empty, the one-host scenarios fill the gaps: a big request served last waits with the hosts it
 * has set aside standing idle); then oldest first (ticket names start with the time they were taken).
 */
export function inServiceOrder<T extends { file: string; req: ClaimRequest }>(queue: T[]): T[] {
  return [...queue].sort(
    (a, b) =>
      (b.req.priority ?? 0) - (a.req.priority ?? 0) ||
      claimSize(b.req) - claimSize(a.req) ||
      a.file.localeCompare(b.file),
  );
}

/** A log line of the claims with the wall clock and, in a budgeted run, the minutes left (for the run's timeline). */
export function claimsLog(kind: 'claims' | 'budget', text: string, now = Date.now()): string {
  const at = new Date(now).toISOString().slice(11, 19);
  const end = Number(process.env.ROLLGATE_E2E_END);
  const left =
    Number.isFinite(end) && end > 0 ? `, ${((end * 1000 - now) / 60_000).toFixed(1)} min of budget left` : '';
  return `[lab ${kind} ${at}${left}] ${text}`;
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
  mkdirSync(queueDir(settings), { recursive: true });
  const deadline = Date.now() + (req.timeoutMs ?? 50 * 60_000);
  const ticket = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(
    join(queueDir(settings), ticket),
    JSON.stringify({ pid: process.pid, req: { ...req, skip: undefined } }),
  );
  const leaveQueue = () => rmSync(join(queueDir(settings), ticket), { force: true });
  let waitedSince = 0;
  try {
    for (;;) {
      const spent = budgetNote(req.label, req.estimateMin);
      if (spent) {
        console.warn(claimsLog('budget', spent));
        if (req.skip) req.skip(spent);
        throw new BudgetSpent(spent);
      }
      const costs = await hostCosts(settings);
      const wait = settling(req, openedAt(settings), Date.now());
      const picked = wait
        ? undefined
        : await withLockFile(join(settings.stateDir, 'claims.lock'), 60_000, 'claim lab hosts', async () => {
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
            const queue = readQueue(settings);
            const mine = queue.findIndex((t) => t.file === ticket);
            const hosts =
              mine < 0
                ? pickHosts(free, req)
                : pickInTurn(
                    free,
                    queue.map((t) => t.req),
                    mine,
                  );
            if (hosts) leaveQueue();
            for (const h of hosts ?? [])
              writeFileSync(
                claimFile(settings, h),
                JSON.stringify({ pid: process.pid, label: req.label, at: new Date().toISOString() }),
              );
            return hosts;
          });
      if (picked) {
        const waited = waitedSince ? ` after waiting ${Math.round((Date.now() - waitedSince) / 1000)} s` : '';
        console.info(claimsLog('claims', `${req.label}: got ${picked.join(', ')}${waited}`));
        const gotAt = Date.now();
        const state = readLabState(paths)!;
        let released = false;
        const release = () => {
          for (const h of picked) rmSync(claimFile(settings, h), { force: true });
          if (!released)
            console.info(
              claimsLog(
                'claims',
                `${req.label}: released ${picked.join(', ')} after ${Math.round((Date.now() - gotAt) / 1000)} s`,
              ),
            );
          released = true;
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
  } finally {
    leaveQueue();
  }
}
