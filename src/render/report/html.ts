/**
 * HTML reports: the run report (`rollgate report RUN`) and the check report (`rollgate check --html`), rendered
 * by nunjucks with autoescape on (every value from a host or the journal is text, never markup), its own
 * environment (not template/'s, which renders Ansible templates unescaped), no loader (the templates are
 * strings), so nothing is read from disk or fetched while rendering.
 */
import nunjucks from 'nunjucks';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import type { FindingsReport } from '../../modules/findings/evaluate.js';
import { redactSecrets } from '../../journal/redact.js';
import { CHECK_TEMPLATE, RUN_TEMPLATE } from './report-template.js';
import { hostFindings, type HostFindings, type RunReport } from './report-model.js';
import { PHASE_TITLES } from './timeline.js';

function environment(): nunjucks.Environment {
  const env = new nunjucks.Environment(null, { autoescape: true, throwOnUndefined: false });
  env.addFilter('iso', (ms: unknown) =>
    typeof ms === 'number'
      ? new Date(ms)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')
      : '',
  );
  env.addFilter('atLeast', (n: unknown, min: number) => Math.max(Number(n) || 0, min));
  return env;
}

/** The whole self-contained page of a run report. */
export function renderRunReport(report: RunReport): string {
  return environment().renderString(RUN_TEMPLATE, { ...report, phaseTitles: PHASE_TITLES });
}

/** One host's outcome of `rollgate check`, as the check report takes it (HostOutcome<HostCheck> fits). */
export interface CheckedHost {
  host: string;
  status: string;
  kind?: string;
  message?: string;
  value?: { snapshot: HostSnapshot; report: FindingsReport };
  /** The host's inventory variables (passthrough_devices marks the devices meant for guests). */
  vars?: Record<string, unknown>;
}

/** The page of `rollgate check --html`: per host its facts, IOMMU groups and findings; hosts not reached listed. */
export function renderCheckReport(hosts: readonly CheckedHost[], now = Date.now()): string {
  const reached: HostFindings[] = hosts.flatMap((h) =>
    h.value
      ? [
          hostFindings(redactSecrets(h.value.snapshot), {
            vars: h.vars ?? {},
            report: redactSecrets(h.value.report),
            source: `snapshot of ${h.value.snapshot.collectedAt}`,
          }),
        ]
      : [],
  );
  const unreachable = hosts
    .filter((h) => !h.value)
    .map((h) => ({ host: h.host, status: h.status, kind: h.kind, message: h.message }));
  return environment().renderString(CHECK_TEMPLATE, {
    title: `rollgate check: ${hosts.length} host(s)`,
    generatedAt: now,
    hosts: reached,
    unreachable: redactSecrets(unreachable),
  });
}
