/**
 * What the HTML report shows, gathered from the journal through its read methods only: the run, the timeline of
 * its events, and per host the verifications (checks: expected / actual), the before/after snapshot diff, the
 * IOMMU topology (pre-change vs the latest later snapshot) and the pre-change findings in diagnosis order.
 * Everything passes the journal's key-based redaction once more on the way out (the journal scrubbed the run's
 * secret values when it stored them; this catches values under secret names whatever wrote them).
 */
import type { VerificationCheck } from '../../events/events.js';
import type { Journal } from '../../journal/journal.js';
import type { RunRow } from '../../journal/journal-types.js';
import { redactSecrets } from '../../journal/redact.js';
import { diffSnapshots, type SnapshotChange } from '../../modules/facts/diff.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { desiredStateFrom } from '../../modules/findings/desired.js';
import { evaluateFindings, type FindingsReport } from '../../modules/findings/evaluate.js';
import { buildTimeline, type Timeline } from './timeline.js';
import { layoutTopology, type Topology } from './topology.js';

export interface ReportVerification {
  against: 'candidate' | 'known_good';
  ok: boolean;
  at: number;
  checks: VerificationCheck[];
}

export interface HostFindings {
  host: string;
  /** Where the snapshot came from, e.g. `pre-change snapshot, 2026-12-06T07:31:02Z`. */
  source: string;
  report: FindingsReport;
  topology: Topology;
  /** The snapshot's own facts worth a line (kernel, IOMMU vendor ...). */
  facts: Array<{ name: string; value: string }>;
}

export interface HostReport extends HostFindings {
  outcome: string;
  detail: string | null;
  verifications: ReportVerification[];
  /** pre-change vs post-boot (and vs after-rollback when there is one). */
  diffs: Array<{ title: string; changes: SnapshotChange[]; rebooted: boolean | null }>;
  needsPerson: Array<{ reason: string; evidence: Array<{ name: string; value: string }> }>;
  /** The journaled steps: module, task, status. */
  steps: Array<{ id: number; module: string; task: string; status: string; message: string | null; undone: boolean }>;
}

export interface RunReport {
  title: string;
  run: Pick<RunRow, 'id' | 'kind' | 'status' | 'playbook' | 'startedAt' | 'finishedAt'>;
  generatedAt: number;
  timeline: Timeline;
  stopped: Array<{ reason: string; message: string; untouched: string[] }>;
  hosts: HostReport[];
}

const show = (k: { status: string; value?: unknown; reason?: string }, f: (v: never) => string): string =>
  k.status === 'ok' ? f(k.value as never) : `unknown (${k.reason ?? ''})`;

/** Findings, facts and the topology of one snapshot (the `check --html` view of a host, and the report's). */
export function hostFindings(
  snap: HostSnapshot,
  opts: { vars?: Record<string, unknown>; report?: FindingsReport; later?: HostSnapshot; source: string },
): HostFindings {
  const desired = desiredStateFrom(snap.host, opts.vars ?? {}, {}, 'expand-later').desired;
  const picture = opts.later ?? snap;
  return {
    host: snap.host,
    source: opts.source,
    report: opts.report ?? evaluateFindings(snap, desired),
    topology: layoutTopology(picture, opts.later ? snap : undefined, desired.passthroughIds),
    facts: [
      { name: 'kernel', value: show(picture.kernelRelease, (v: string) => v) },
      { name: 'hardware', value: show(picture.hardware, (v: { kind: string | null }) => v.kind ?? '?') },
      { name: 'IOMMU', value: show(picture.iommu.vendor, (v: { value: string }) => v.value) },
      { name: 'default domain', value: show(picture.iommu.defaultDomain, (v: { value: string }) => v.value) },
      { name: 'kernel command line', value: show(picture.cmdline, (v: { raw?: string }) => v.raw ?? '') },
    ],
  };
}

/** Read run `runId` from the journal; undefined when the journal has no such run. */
export function buildRunReport(journal: Journal, runId: string, now = Date.now()): RunReport | undefined {
  const run = journal.getRun(runId);
  if (!run) return undefined;
  const events = journal.listEvents(runId).map((e) => redactSecrets(e));
  const hostRows = journal.listHosts(runId);
  const timeline = buildTimeline(
    events,
    hostRows.map((h) => h.host),
    run.startedAt,
  );
  const hosts = timeline.lanes.map((lane): HostReport => {
    const row = hostRows.find((h) => h.host === lane.host);
    const mine = events.filter((e) => e.host === lane.host);
    const pre = journal.latestSnapshot(runId, lane.host, 'pre-change') ?? journal.firstSnapshot(runId, lane.host);
    const post = journal.latestSnapshot(runId, lane.host, 'post-boot');
    const back = journal.latestSnapshot(runId, lane.host, 'after-rollback');
    const later = back ?? post;
    const preData = pre ? redactSecrets(pre.data as HostSnapshot) : undefined;
    const diffs: HostReport['diffs'] = [];
    for (const [title, s] of [
      ['pre-change -> post-boot (the candidate)', post],
      ['pre-change -> after rollback', back],
    ] as const) {
      if (!preData || !s) continue;
      const d = diffSnapshots(preData, redactSecrets(s.data as HostSnapshot));
      diffs.push({ title, changes: d.changes, rebooted: d.rebooted });
    }
    const found =
      preData && pre
        ? hostFindings(preData, {
            vars: row?.vars ?? {},
            ...(later && later.id !== pre.id ? { later: redactSecrets(later.data as HostSnapshot) } : {}),
            source: `${pre.phase} snapshot of ${new Date(pre.takenAt).toISOString()}${later && later.id !== pre.id ? `; picture from the ${later.phase} snapshot` : ''}`,
          })
        : undefined;
    return {
      host: lane.host,
      source: found?.source ?? 'no snapshot in the journal',
      report: found?.report ?? {
        host: lane.host,
        findings: [],
        undecided: [],
        passed: [],
        errors: 0,
        warnings: 0,
        fixFirst: null,
        summary: 'no snapshot: the run did not reach this host',
      },
      topology: found?.topology ?? layoutTopology({ host: lane.host, iommu: { groups: noSnap } } as HostSnapshot),
      facts: found?.facts ?? [],
      // A lane with no rollout outcome (a playbook run, an interrupted rollout): the journal's host status.
      outcome: lane.outcome === 'unfinished' && row ? row.status : lane.outcome,
      detail: row?.status ?? null,
      verifications: mine
        .filter((e) => e.type === 'rollout.verification')
        .map((e) => {
          const d = e.data as Omit<ReportVerification, 'at'>;
          return { against: d.against, ok: d.ok, checks: d.checks, at: e.at };
        }),
      diffs,
      needsPerson: mine
        .filter((e) => e.type === 'rollout.needs_person')
        .map((e) => {
          const d = e.data as { reason: string; evidence: Record<string, string> };
          return {
            reason: d.reason,
            evidence: Object.entries(d.evidence ?? {}).map(([name, value]) => ({ name, value })),
          };
        }),
      steps: journal.listSteps(runId, lane.host).map((s) => ({
        id: s.id,
        module: s.module,
        task: s.task,
        status: s.status,
        message: s.message,
        undone: s.undoneAt !== null,
      })),
    };
  });
  return {
    title: `rollgate ${run.kind} ${run.id}`,
    run: {
      id: run.id,
      kind: run.kind,
      status: run.status,
      playbook: run.playbook,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    },
    generatedAt: now,
    timeline,
    stopped: events
      .filter((e) => e.type === 'rollout.stopped')
      .map((e) => e.data as { reason: string; message: string; untouched: string[] }),
    hosts,
  };
}

const noSnap = { status: 'unknown' as const, reason: 'no snapshot in the journal' };
