/**
 * The plan of a run, computed before any host is touched and without touching one: for each play, the hosts it
 * runs on (its `hosts` pattern, narrowed by --limit) and the tasks left after --tags / --skip-tags. Pure.
 */
import { ConfigError, type ConfigProblem } from '../core/config-error.js';
import type { Inventory } from '../load/inventory.js';
import { selectHosts } from '../load/limit.js';
import type { Block, Handler, Play, Playbook, TaskNode } from '../load/playbook-types.js';
import { selectedByTags, type TagSelection } from './tags.js';
import { planBatches } from '../strategy/serial.js';

export interface PlanOptions {
  /** --limit pattern. */
  limit?: string;
  tags?: readonly string[];
  skipTags?: readonly string[];
}

export interface PlannedPlay {
  play: Play;
  /** Hosts in inventory order; empty when --limit leaves none (the play is skipped, as Ansible does). */
  hosts: string[];
  /** `serial` batches of those hosts, in order (one batch of all hosts without `serial`). */
  batches: string[][];
  preTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: Handler[];
}

export interface Plan {
  playbook: Playbook;
  plays: PlannedPlay[];
  /** Every host some play runs on, in inventory order. */
  hosts: string[];
}

/** Keep the nodes the tag selection runs; a block keeps its keywords and loses only unselected children. */
export function filterByTags(
  nodes: readonly TaskNode[],
  selection: TagSelection,
  inherited: readonly string[] = [],
): TaskNode[] {
  const out: TaskNode[] = [];
  for (const node of nodes) {
    const tags = [...inherited, ...node.tags];
    if (node.kind === 'meta') out.push(node);
    else if (node.kind === 'task') {
      if (selectedByTags(tags, selection)) out.push(node);
    } else {
      const block: Block = {
        ...node,
        block: filterByTags(node.block, selection, tags),
        rescue: filterByTags(node.rescue, selection, tags),
        always: filterByTags(node.always, selection, tags),
      };
      if (block.block.length + block.rescue.length + block.always.length > 0) out.push(block);
    }
  }
  return out;
}

function playHosts(inv: Inventory, play: Play, problems: ConfigProblem[]): string[] {
  try {
    const hosts = selectHosts(inv, play.hosts, play.hostsPosition);
    if (hosts.length === 0) {
      problems.push({
        position: play.hostsPosition,
        message: `\`hosts: ${play.hosts}\` matches no host in the inventory`,
        hint: 'add hosts to that group, or name a group that has some (`rollgate inventory -i INV --graph`)',
      });
    }
    return hosts;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return [];
  }
}

/** Build the plan; throws one ConfigError for every host pattern that names nothing or matches no host. */
export function planRun(inv: Inventory, playbook: Playbook, options: PlanOptions = {}): Plan {
  const problems: ConfigProblem[] = [];
  const limited =
    options.limit !== undefined && options.limit !== '' ? new Set(limitHosts(inv, options.limit, problems)) : undefined;
  const selection: TagSelection = { tags: options.tags ?? [], skipTags: options.skipTags ?? [] };
  const plays = playbook.plays.map((play): PlannedPlay => {
    const hosts = playHosts(inv, play, problems).filter((h) => !limited || limited.has(h));
    return {
      play,
      hosts,
      batches: planBatches(hosts, play.serial),
      preTasks: filterByTags(play.preTasks, selection, play.tags),
      tasks: filterByTags(play.tasks, selection, play.tags),
      postTasks: filterByTags(play.postTasks, selection, play.tags),
      handlers: play.handlers,
    };
  });
  if (problems.length === 0 && limited && plays.every((p) => p.hosts.length === 0)) {
    problems.push({
      position: { file: '--limit', line: 1, column: 1 },
      message: `--limit \`${options.limit}\` leaves no host in any play`,
      hint: "name hosts or groups of the plays' `hosts:`",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const all = new Set(plays.flatMap((p) => p.hosts));
  return { playbook, plays, hosts: [...inv.hosts.keys()].filter((h) => all.has(h)) };
}

function limitHosts(inv: Inventory, limit: string, problems: ConfigProblem[]): string[] {
  try {
    return selectHosts(inv, limit);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return [];
  }
}
