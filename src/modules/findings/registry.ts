/** Every rule, in the guides' diagnosis order (iommu -> binding -> groups -> faults -> guests -> performance). */
import type { Rule } from './finding.js';
import { LAYERS } from './finding.js';
import { iommuRules } from './rules/iommu.js';
import { bindingRules } from './rules/binding.js';
import { securityRules } from './rules/security.js';
import { groupRules } from './rules/groups.js';
import { faultRules } from './rules/faults.js';
import { performanceRules } from './rules/performance.js';
import { guestRules } from './rules/guests.js';

export const rules: readonly Rule[] = [
  ...iommuRules,
  ...bindingRules,
  ...securityRules,
  ...groupRules,
  ...faultRules,
  ...guestRules,
  ...performanceRules,
].sort((a, b) => LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer));

export const ruleById: ReadonlyMap<string, Rule> = new Map(rules.map((r) => [r.id, r]));
