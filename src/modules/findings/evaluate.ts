/** Run every rule over a snapshot: findings in diagnosis order, rules that could not decide, and where to start. */
import type { HostSnapshot } from '../facts/snapshot.js';
import type { DesiredState } from './desired.js';
import { LAYERS, LAYER_TITLES, type Finding, type Layer, type Rule } from './finding.js';
import { rules as allRules } from './registry.js';

export interface FindingsReport {
  host: string;
  findings: Finding[];
  /** Rules that could not decide, with why (a source unknown, no profile, ...). */
  undecided: Array<{ rule: string; reason: string }>;
  passed: string[];
  errors: number;
  warnings: number;
  /** The first layer with an error (else a warning): fix it before anything below it. */
  fixFirst: Layer | null;
  summary: string;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function evaluateFindings(
  snap: HostSnapshot,
  desired: DesiredState,
  rules: readonly Rule[] = allRules,
): FindingsReport {
  const findings: Finding[] = [];
  const undecided: FindingsReport['undecided'] = [];
  const passed: string[] = [];
  for (const rule of rules) {
    let outcome;
    try {
      outcome = rule.evaluate({ snap, desired });
    } catch (err) {
      outcome = { status: 'unknown' as const, reason: `rule failed: ${(err as Error).message}` };
    }
    if (outcome.status === 'pass') passed.push(rule.id);
    else if (outcome.status === 'unknown') undecided.push({ rule: rule.id, reason: outcome.reason });
    else
      for (const f of outcome.findings)
        findings.push({
          rule: rule.id,
          severity: f.severity ?? rule.severity,
          layer: rule.layer,
          message: f.message,
          evidence: f.evidence,
          decision: f.decision ?? rule.decision,
          guide: rule.guide,
          ...(f.device ? { device: f.device } : {}),
        });
  }
  findings.sort(
    (a, b) =>
      LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const firstOf = (sev: Finding['severity']) =>
    LAYERS.find((l) => findings.some((f) => f.layer === l && f.severity === sev)) ?? null;
  const fixFirst = firstOf('error') ?? firstOf('warning');
  const summary = fixFirst
    ? `${errors} error(s), ${warnings} warning(s); fix ${LAYER_TITLES[fixFirst]} first`
    : `no errors or warnings (${undecided.length} check(s) could not decide)`;
  return { host: snap.host, findings, undecided, passed, errors, warnings, fixFirst, summary };
}
