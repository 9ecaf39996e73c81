/**
 * The report's timeline, pure: a rollout's journaled events -> one lane per host with its phases as bars on a
 * real time axis (snapshot, change, trial boot, verification, commit, rollback, needs a person), the canary and
 * batch starts as marks across every lane, power resets and interruptions as marks on their host's lane.
 * Positions are fractions of the run's duration (0..1); the template scales them to pixels.
 */
import type { EventRow } from '../../journal/journal-types.js';

export type PhaseKind = 'snapshot' | 'change' | 'trial_boot' | 'verification' | 'commit' | 'rollback' | 'needs_person';

export const PHASE_TITLES: Record<PhaseKind, string> = {
  snapshot: 'snapshot',
  change: 'change',
  trial_boot: 'trial boot',
  verification: 'verification',
  commit: 'commit',
  rollback: 'rollback',
  needs_person: 'needs a person',
};

export interface Bar {
  phase: PhaseKind;
  /** The journaled step that opened it, e.g. `arm the trial boot`. */
  label: string;
  start: number;
  end: number;
  failed: boolean;
  /** Fractions of the axis. */
  x: number;
  w: number;
}

export interface Mark {
  kind: 'power_reset' | 'interrupted' | 'needs_person' | 'window_wait';
  at: number;
  x: number;
  label: string;
}

export interface Lane {
  host: string;
  /** How the host ended (a RolloutHostStatus), or `untouched` / `unfinished`. */
  outcome: string;
  bars: Bar[];
  marks: Mark[];
}

export interface BatchMark {
  label: string;
  phase: 'canary' | 'batch';
  at: number;
  x: number;
  hosts: string[];
}

export interface Timeline {
  start: number;
  end: number;
  lanes: Lane[];
  batches: BatchMark[];
  /** Axis ticks: fraction and wall-clock label (UTC). */
  ticks: Array<{ x: number; label: string }>;
}

/** Which phase a rollout step belongs to, by the names host-run.ts and its helpers give their steps. */
export function phaseOfStep(step: string, rollingBack: boolean): PhaseKind {
  if (/^commit\b/.test(step)) return 'commit';
  if (/^post-boot snapshot/.test(step)) return 'verification';
  if (rollingBack) return 'rollback';
  if (/snapshot|^freeze the known-good/.test(step)) return 'snapshot';
  if (/^play\b/.test(step)) return 'change';
  if (/^(arm the trial boot|reboot|trial boot|wait for the host|power reset)/.test(step)) return 'trial_boot';
  if (/^(held back|release|remove the known-good|undo)/.test(step)) return 'rollback';
  return 'change';
}

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

function ticksOf(start: number, end: number): Timeline['ticks'] {
  const span = Math.max(end - start, 1);
  const step = TICK_STEPS_MS.find((s) => span / s <= 8) ?? 86400_000;
  const out: Timeline['ticks'] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step)
    out.push({ x: (t - start) / span, label: new Date(t).toISOString().slice(11, 19) });
  return out;
}

type Data = Record<string, unknown>;

/** Build the timeline from a run's events (journal order) and its hosts (lane order: the plan's, then the rest). */
export function buildTimeline(events: readonly EventRow[], hosts: readonly string[], runStart: number): Timeline {
  const started = events.find((e) => e.type === 'rollout.started')?.data as { hosts?: string[] } | undefined;
  const order = [...(started?.hosts ?? []), ...hosts].filter((h, i, all) => all.indexOf(h) === i);
  const start = Math.min(runStart, ...events.map((e) => e.at));
  const end = Math.max(start + 1, ...events.map((e) => e.at));
  const frac = (t: number) => (t - start) / (end - start);
  const lanes: Lane[] = order.map((host) => {
    const mine = events.filter((e) => e.host === host);
    const bars: Bar[] = [];
    const marks: Mark[] = [];
    let open: { phase: PhaseKind; label: string; start: number; failed: boolean } | null = null;
    let rollingBack = false;
    let outcome = mine.length ? 'unfinished' : 'untouched';
    const close = (at: number) => {
      if (open) bars.push({ ...open, end: at, x: frac(open.start), w: Math.max(frac(at) - frac(open.start), 0) });
      open = null;
    };
    const begin = (phase: PhaseKind, label: string, at: number) => {
      close(at);
      open = { phase, label, start: at, failed: false };
    };
    const mark = (kind: Mark['kind'], at: number, label: string) => marks.push({ kind, at, x: frac(at), label });
    for (const e of mine) {
      const d = e.data as Data;
      switch (e.type) {
        case 'rollout.host_step': {
          const step = String(d.step);
          if (step === 'interrupted') {
            mark('interrupted', e.at, String(d.message ?? 'interrupted'));
            close(e.at);
          } else if (/^wait for the maintenance window/.test(step)) {
            mark('window_wait', e.at, String(d.message ?? step));
          } else if (d.status === 'started') begin(phaseOfStep(step, rollingBack), step, e.at);
          else if (d.status === 'failed' && open) (open as { failed: boolean }).failed = true;
          break;
        }
        case 'rollout.verification':
          if (d.ok === false && open) (open as { failed: boolean }).failed = true;
          break;
        case 'rollout.rollback':
          if (d.action === 'power_reset') mark('power_reset', e.at, String(d.reason ?? 'power reset'));
          if (!rollingBack) {
            rollingBack = true;
            begin('rollback', `rollback: ${String(d.reason ?? '')}`, e.at);
          }
          break;
        case 'rollout.needs_person':
          mark('needs_person', e.at, String(d.reason ?? 'needs a person'));
          begin('needs_person', String(d.reason ?? 'needs a person'), e.at);
          break;
        case 'rollout.host_finished':
          outcome = String(d.status);
          close(e.at);
          break;
        default:
          break;
      }
    }
    close(end);
    return { host, outcome, bars, marks };
  });
  const batches: BatchMark[] = events
    .filter((e) => e.type === 'rollout.batch_started')
    .map((e) => {
      const d = e.data as { phase: 'canary' | 'batch'; index: number; hosts: string[] };
      return {
        label: `${d.phase} ${d.index}`,
        phase: d.phase,
        at: e.at,
        x: frac(e.at),
        hosts: d.hosts,
      };
    });
  return { start, end, lanes, batches, ticks: ticksOf(start, end) };
}
