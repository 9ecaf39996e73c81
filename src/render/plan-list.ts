/**
 * `rollgate run --list-hosts / --list-tasks`: the plan as ansible-playbook lists it, without contacting a host.
 *
 *   play #1 (hypervisors): enable IOMMU passthrough   TAGS: []
 *     pattern: hypervisors
 *     hosts (2):
 *       hv01
 *       hv02
 *     tasks:
 *       kernel args for the IOMMU vendor   TAGS: [kernel]
 */
import type { TaskNode } from '../load/playbook-types.js';
import type { Plan } from '../plan/plan.js';

function taskLines(nodes: readonly TaskNode[], inherited: readonly string[], indent: string): string[] {
  return nodes.flatMap((n) => {
    const tags = [...new Set([...inherited, ...n.tags])];
    if (n.kind === 'block')
      return [
        ...taskLines(n.block, tags, indent),
        ...taskLines(n.rescue, tags, indent),
        ...taskLines(n.always, tags, indent),
      ];
    const name = n.kind === 'meta' ? `meta: ${n.action}` : (n.name ?? n.module);
    return [`${indent}${name}\tTAGS: [${tags.join(', ')}]`];
  });
}

export function formatPlan(plan: Plan, what: { hosts: boolean; tasks: boolean }): string {
  const lines: string[] = [];
  plan.plays.forEach((p, i) => {
    lines.push(`play #${i + 1} (${p.play.hosts}): ${p.play.name}\tTAGS: [${p.play.tags.join(', ')}]`);
    if (what.hosts) {
      lines.push(`  pattern: ${p.play.hosts}`, `  hosts (${p.hosts.length}):`, ...p.hosts.map((h) => `    ${h}`));
    }
    if (what.tasks)
      lines.push('  tasks:', ...taskLines([...p.preTasks, ...p.tasks, ...p.postTasks], p.play.tags, '    '));
    lines.push('');
  });
  return lines.join('\n');
}
