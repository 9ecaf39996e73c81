/**
 * The secret values of a run, known before any host is contacted: every value under a secret-looking name
 * (secret-names.ts) in the inventory, the plays' vars (play, block, task) and `-e`; the values of variables a
 * play lists in `no_log_vars`; the passwords `rollgate_power.password_env` points to; and every value decrypted
 * from ansible-vault data. Values templated at run
 * time are added per task by scope-secrets.ts.
 */
import type { EventBus } from '../events/events.js';
import type { Journal } from '../journal/journal.js';
import type { Inventory } from '../load/inventory.js';
import type { Play, TaskNode } from '../load/playbook-types.js';
import { isSecretName } from '../secrets/secret-names.js';
import { SecretSet } from '../secrets/secret-set.js';
import { vaultPlaintexts } from '../load/vault.js';
import { becomePasswordValues } from '../connection/become-password.js';

export interface RunSecretSources {
  inventory: Inventory;
  plays: readonly Play[];
  extraVars: Readonly<Record<string, unknown>>;
  /** Where `password_env` names are looked up. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Every value under a secret name in `vars`, at any depth (`db: {password: x}` counts), into `set`. */
export function addNamedSecrets(set: SecretSet, vars: unknown, depth = 0): void {
  if (depth > 16 || vars === null || typeof vars !== 'object') return;
  if (Array.isArray(vars)) {
    for (const v of vars) addNamedSecrets(set, v, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(vars as Record<string, unknown>)) {
    if (isSecretName(key)) set.add(value);
    else addNamedSecrets(set, value, depth + 1);
  }
}

function nodeVars(nodes: readonly TaskNode[], out: Array<Record<string, unknown>>): void {
  for (const n of nodes) {
    out.push(n.vars);
    if (n.kind === 'block') for (const list of [n.block, n.rescue, n.always]) nodeVars(list, out);
  }
}

export function runSecrets(sources: RunSecretSources, set = new SecretSet()): SecretSet {
  const env = sources.env ?? process.env;
  for (const value of vaultPlaintexts()) set.add(value); // everything ansible-vault decrypted
  for (const value of becomePasswordValues()) set.add(value); // -K, --become-password-file, templated ones
  const layers: Array<Readonly<Record<string, unknown>>> = [sources.extraVars];
  for (const host of sources.inventory.hosts.values()) {
    layers.push(host.vars);
    const power = host.vars.rollgate_power as Record<string, unknown> | undefined;
    if (power && typeof power === 'object' && typeof power.password_env === 'string') set.add(env[power.password_env]);
  }
  const noLogVars = new Set<string>();
  for (const play of sources.plays) {
    const vars: Array<Record<string, unknown>> = [play.vars];
    nodeVars([...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers], vars);
    layers.push(...vars);
    for (const name of play.noLogVars) noLogVars.add(name);
  }
  for (const vars of layers) {
    addNamedSecrets(set, vars);
    for (const name of noLogVars) if (Object.hasOwn(vars, name)) set.add(vars[name]);
  }
  return set;
}

/** Make the journal and the bus scrub `secrets` from everything they store or pass on. */
export function guardRun(secrets: SecretSet, journal: Journal, bus: EventBus): void {
  journal.secrets = secrets;
  bus.scrubWith((event) => secrets.scrub(event));
}
