/**
 * The variables one task sees on one host, as layers (precedence documented in src/template/vars.ts): inventory <
 * play vars < block vars < task vars < registered/set_fact < loop item < -e extra vars < magic variables.
 */
import type { NodeCommon } from '../load/playbook-types.js';
import { createScope } from '../template/template.js';
import type { VarLayer, VarScope } from '../template/vars.js';
import type { HostSession } from './host-session.js';
import type { Inherited, PlayContext } from './run-context.js';

/** Ansible's `omit`: an option whose value is exactly this is left out of the module's options. */
export const OMIT = '__rollgate_omit_placeholder__';

/** hostvars[NAME]: another host's inventory variables and facts (raw, not templated). */
function hostvars(play: PlayContext): Record<string, unknown> {
  const sessions = play.run.sessions;
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, key) => {
      if (typeof key !== 'string') return undefined;
      const s = sessions.get(key);
      const inv = play.run.inventory.hosts.get(key);
      if (!s && !inv) return undefined;
      return { inventory_hostname: key, ...(inv?.vars ?? {}), ...(s?.facts ?? {}) };
    },
    has: (_t, key) => typeof key === 'string' && play.run.inventory.hosts.has(key),
    ownKeys: () => [...play.run.inventory.hosts.keys()],
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && play.run.inventory.hosts.has(key)
        ? { enumerable: true, configurable: true }
        : undefined,
  });
}

function magicVars(host: HostSession, play: PlayContext, checkMode: boolean): Record<string, unknown> {
  const playHosts = play.hosts.filter((h) => h.active).map((h) => h.name);
  const magic: Record<string, unknown> = {
    inventory_hostname: host.name,
    inventory_hostname_short: host.name.split('.')[0],
    group_names: host.groups,
    groups: play.run.groups,
    hostvars: hostvars(play),
    ansible_play_hosts: playHosts,
    ansible_play_batch: playHosts,
    play_hosts: playHosts,
    ansible_play_hosts_all: play.hosts.map((h) => h.name),
    ansible_play_name: play.planned.play.name,
    ansible_check_mode: checkMode,
    ansible_diff_mode: play.run.options.diff,
    playbook_dir: play.run.playbookDir,
    rollgate_run_id: play.run.runId,
    omit: OMIT,
  };
  if (host.lastFailure) {
    magic.ansible_failed_task = { name: host.lastFailure.task };
    magic.ansible_failed_result = host.lastFailure.result;
  }
  return magic;
}

/** The scope of `node` (a task or handler) on `host`, before any loop item. */
export function taskScope(
  host: HostSession,
  play: PlayContext,
  inherited: Inherited,
  node: NodeCommon,
  checkMode: boolean,
): VarScope {
  const p = play.planned.play;
  const layers: VarLayer[] = [
    { kind: 'inventory', vars: host.inventoryVars },
    { kind: 'play', vars: p.vars, position: p.position },
    ...inherited.blockVars,
    { kind: 'task', vars: node.vars, position: node.position },
    { kind: 'registered', vars: host.facts },
    { kind: 'extra', vars: play.run.options.extraVars },
    { kind: 'magic', vars: magicVars(host, play, checkMode) },
  ];
  return createScope(layers);
}

/** The scope with the loop variable bound. */
export function withLoopItem(scope: VarScope, loopVar: string, item: unknown, index: number, length: number): VarScope {
  return scope.with({
    kind: 'loop',
    vars: {
      [loopVar]: item,
      ansible_loop_var: loopVar,
      ansible_loop: { index: index + 1, index0: index, first: index === 0, last: index === length - 1, length },
    },
  });
}
