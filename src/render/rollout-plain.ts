/**
 * Plain rollout progress: one line per phase, batch, task result, host step, verification and outcome. No colours
 * or cursor movement, so it suits pipes, logs and tests (and `rollgate show`). Consumes events only.
 */
import type { RollgateEvent } from '../events/events.js';
import { terminalWriter } from './terminal-text.js';

export function formatRolloutEvent(e: RollgateEvent): string[] {
  switch (e.type) {
    case 'rollout.started':
      return [
        `rollout ${e.runId}: ${e.hosts.length} host(s), ${Object.keys(e.kinds).length} hardware kind(s)`,
        ...Object.entries(e.kinds).map(([k, hs]) => `  kind ${k}: ${hs.join(', ')}`),
      ];
    case 'rollout.warning':
      return [`WARNING ${e.message} (${e.hint})`];
    case 'rollout.batch_started':
      return [`${e.phase === 'canary' ? 'canary' : 'batch'} ${e.index}: ${e.hosts.join(', ')}`];
    case 'rollout.paused':
      return [
        e.pause === 'approval'
          ? `paused before ${e.before.phase} ${e.before.index}: waiting for approval`
          : `paused ${e.seconds} s before ${e.before.phase} ${e.before.index}`,
      ];
    case 'task.result':
      // The play's tasks on each host (skipped ones are left out: the run's journal keeps them).
      return e.status === 'skipped'
        ? []
        : [
            `  ${e.host}: task "${e.task}"${e.item !== undefined ? ` (item=${e.item})` : ''}: ${e.status}${e.message && e.status !== 'ok' ? ` (${e.message.split('\n')[0]})` : ''}`,
          ];
    case 'rollout.host_step':
      return e.status === 'started'
        ? [`  ${e.host}: ${e.step} ...`]
        : [`  ${e.host}: ${e.step}: ${e.status}${e.message ? ` (${e.message})` : ''}`];
    case 'rollout.verification':
      return [
        `  ${e.host}: verification against the ${e.against === 'candidate' ? 'pre-change snapshot and the play' : 'pre-change snapshot (after rollback)'}: ${e.ok ? 'passed' : 'FAILED'}`,
        ...[...e.checks]
          .sort((a, b) => Number(a.ok) - Number(b.ok))
          .map((c) =>
            c.ok
              ? `      ok    ${c.name}: ${c.actual}`
              : `      FAIL  ${c.name}: expected ${c.expected}, found ${c.actual}`,
          ),
      ];
    case 'rollout.rollback':
      // A power reset is not a rollback by itself: the pending one-shot may boot and verify after it.
      return [
        e.action === 'power_reset'
          ? `  ${e.host}: POWER RESET: ${e.reason}`
          : `  ${e.host}: ROLLBACK ${e.action}: ${e.reason}`,
      ];
    case 'rollout.needs_person':
      return [
        `  ${e.host}: NEEDS A PERSON: ${e.reason}`,
        ...Object.entries(e.evidence).map(([k, v]) => `      ${k}: ${v}`),
      ];
    case 'rollout.host_finished':
      return [`  ${e.host}: ${e.status} (${(e.ms / 1000).toFixed(1)} s): ${e.message}`];
    case 'rollout.stopped':
      return [
        `STOPPED (${e.reason}): ${e.message}${e.untouched.length ? `; untouched: ${e.untouched.join(', ')}` : ''}`,
      ];
    case 'rollout.finished':
      return [
        `rollout ${e.runId} ${e.result}: ${
          Object.entries(e.counts)
            .filter(([, n]) => n > 0)
            .map(([s, n]) => `${s}=${n}`)
            .join(' ') || 'no hosts'
        } | ${(e.ms / 1000).toFixed(1)} s`,
      ];
    default:
      return [];
  }
}

export function rolloutPlainRenderer(
  write: (text: string) => void = (t) => void process.stdout.write(t),
): (e: RollgateEvent) => void {
  const out = terminalWriter(write);
  return (e) => {
    for (const line of formatRolloutEvent(e)) out(`${line}\n`);
  };
}
