/**
 * A finding is a decision from the field guides applied to one host's snapshot: what is wrong (or worth
 * knowing), the lines that show it, and what to do, in the order the second guide diagnoses: IOMMU active ->
 * binding -> groups -> faults/reset, then the first guide's performance questions.
 */
import type { HostSnapshot } from '../facts/snapshot.js';
import type { DesiredState } from './desired.js';

export type Severity = 'error' | 'warning' | 'info';
export type Layer = 'iommu' | 'binding' | 'groups' | 'faults' | 'guests' | 'performance';

/** Diagnosis order: fix the first layer with an error before looking further down. */
export const LAYERS: readonly Layer[] = ['iommu', 'binding', 'groups', 'faults', 'guests', 'performance'];

export const LAYER_TITLES: Record<Layer, string> = {
  iommu: 'IOMMU active and configured',
  binding: 'devices bound to vfio-pci',
  groups: 'IOMMU group isolation',
  faults: 'DMA faults and device reset',
  guests: 'guests and libvirt (the hypervisor view)',
  performance: 'performance evidence (iommu=pt decision)',
};

export interface Finding {
  /** Stable id, e.g. `iommu.not-active`. */
  rule: string;
  severity: Severity;
  layer: Layer;
  /** One line: what is wrong. */
  message: string;
  /** Lines from the snapshot that show it. */
  evidence: string[];
  /** What to do, in our words (from the guide's decision). */
  decision: string;
  /** Where the guides discuss it, e.g. `guide 2, task 5`. */
  guide: string;
  /** The device it is about, when there is one. */
  device?: string;
}

export type FindingDraft = Pick<Finding, 'message' | 'evidence'> &
  Partial<Pick<Finding, 'decision' | 'severity' | 'device'>>;

export type RuleOutcome =
  { status: 'pass' } | { status: 'unknown'; reason: string } | { status: 'fail'; findings: FindingDraft[] };

export interface RuleContext {
  snap: HostSnapshot;
  desired: DesiredState;
}

export interface Rule {
  id: string;
  layer: Layer;
  /** Default severity; a finding may raise or lower its own. */
  severity: Severity;
  /** What the rule checks, for listings. */
  title: string;
  guide: string;
  /** The guide's decision, used when a finding does not give its own. */
  decision: string;
  evaluate(ctx: RuleContext): RuleOutcome;
}

export const pass: RuleOutcome = { status: 'pass' };
export const cannot = (reason: string): RuleOutcome => ({ status: 'unknown', reason });
export const fail = (...findings: FindingDraft[]): RuleOutcome =>
  findings.length ? { status: 'fail', findings } : pass;
