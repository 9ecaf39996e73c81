/**
 * `rollgate run PLAYBOOK -i INV [--limit P] [--tags T] [--skip-tags T] [--check] [--diff] [--json] [-e K=V]`:
 * run a playbook as ansible-playbook does. Playbook, inventory, plan, extra vars and every host's connection
 * settings are checked before any host is contacted; each change is journaled with its undo before it runs.
 */
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import {
  connectionOptions,
  extraVarsOption,
  forksOption,
  inventoryOption,
  journalOption,
  limitOption,
  positiveNumber,
  tagOptions,
  withOptions,
} from '../options.js';
import { sessionBus, sessionFleetLock, sessionJournal, sessionTargets } from '../session.js';
import { EXIT, EXIT_HELP, exitCodeOf } from '../exit-codes.js';
import type { SetExitCode } from './index.js';

interface RunCliOptions {
  inventory: string[];
  limit?: string;
  tags: string[];
  skipTags: string[];
  check?: boolean;
  diff?: boolean;
  json?: boolean;
  extraVars: string[];
  forks: string;
  journal?: string;
  become?: boolean;
  connectTimeout?: string;
  acceptNewHostKeys?: boolean;
  sshConfig?: string;
  syntaxCheck?: boolean;
  listHosts?: boolean;
  listTasks?: boolean;
}

/** The shared table (exit-codes.ts): 0 ok, 1 a host failed, 4 a host unreachable; 5 when locked, 130/143 interrupted (below). */
export function runExitCode(result: { failed: boolean; unreachable: boolean }): number {
  return exitCodeOf({ failed: result.failed ? 1 : 0, unreachable: result.unreachable ? 1 : 0 });
}

async function run(playbookPath: string, opts: RunCliOptions, setExitCode: SetExitCode): Promise<void> {
  const forks = positiveNumber(opts.forks, '--forks', true)!;
  const [{ loadPlaybook }, { loadInventory }, { planRun }, { parseExtraVars }] = await Promise.all([
    import('../../load/playbook.js'),
    import('../../load/inventory.js'),
    import('../../plan/plan.js'),
    import('../../load/extra-vars.js'),
  ]);
  const playbook = loadPlaybook(playbookPath);
  if (opts.syntaxCheck) {
    process.stdout.write(`playbook: ${playbookPath}: ${playbook.plays.length} play(s), valid\n`);
    return setExitCode(0);
  }
  const inventory = loadInventory(opts.inventory);
  const plan = planRun(inventory, playbook, {
    ...(opts.limit ? { limit: opts.limit } : {}),
    tags: opts.tags,
    skipTags: opts.skipTags,
  });
  const extraVars = parseExtraVars(opts.extraVars);
  // rollgate's own host variables (passthrough_devices, iommu_mode ...): bad values stop the run here, at file:line:col
  // (values -e overrides are not the inventory's to answer for).
  const withoutExtra = (vars: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(vars).filter(([k]) => !(k in extraVars)));
  (await import('../../modules/findings/desired.js')).desiredStatesOf(
    plan.hosts.map((n) => {
      const h = inventory.hosts.get(n)!;
      return { ...h, vars: withoutExtra(h.vars) };
    }),
    'expand-later',
  );
  if (opts.listHosts || opts.listTasks) {
    const { formatPlan } = await import('../../render/plan-list.js');
    process.stdout.write(formatPlan(plan, { hosts: opts.listHosts === true, tasks: opts.listTasks === true }));
    return setExitCode(0);
  }
  const [{ onInterrupt }, { runPlaybook, HostsLockedError }, { runSecrets }] = await Promise.all([
    import('../interrupts.js'),
    import('../../executor/run-playbook.js'),
    import('../../executor/run-secrets.js'),
  ]);
  const targets = await sessionTargets(
    plan.hosts.map((n) => inventory.hosts.get(n)!),
    { ...opts, become: opts.become ? true : undefined },
  );
  // After the targets: the become passwords they were given (-K, templated ones) are secrets too.
  const secrets = runSecrets({ inventory, plays: plan.plays.map((p) => p.play), extraVars });
  const journal = await sessionJournal(opts.journal);
  const { bus } = await sessionBus({
    listener: opts.json
      ? (await import('../../render/run-json.js')).runJsonRenderer()
      : (await import('../../render/run-plain.js')).runPlainRenderer({
          diff: opts.diff === true,
          ...(opts.journal ? { journal: opts.journal } : {}),
        }),
  });
  const lock = await sessionFleetLock(journal);
  const interrupts = onInterrupt('run', journal, lock);
  try {
    const result = await runPlaybook({
      stop: interrupts.signal,
      plan,
      inventory,
      targets: new Map(targets.map((t) => [t.name, t])),
      journal,
      lock,
      bus,
      options: { check: opts.check === true, diff: opts.diff === true, extraVars, forks },
      playbookPath: resolve(playbookPath),
      playbookDir: dirname(resolve(playbookPath)),
      inventorySources: opts.inventory,
      ...(opts.limit ? { limit: opts.limit } : {}),
      tags: opts.tags,
      skipTags: opts.skipTags,
      secrets,
    });
    if (!opts.json)
      process.stdout.write(`\nrun ${result.runId}${opts.check ? ' (check)' : ''}: journal ${journal.path}\n`);
    if (result.interrupted) {
      process.stderr.write(
        `rollgate run: ${result.interrupted}: stopped after the tasks in flight; run ${result.runId} is marked interrupted and its locks are released. \`rollgate undo ${result.runId}\` takes back what it changed\n`,
      );
      return setExitCode(interrupts.exitCode() ?? EXIT.refused);
    }
    setExitCode(runExitCode(result));
  } catch (err) {
    if (!(err instanceof HostsLockedError)) throw secrets.scrubError(err);
    process.stderr.write(`rollgate run: ${err.message}\nnothing was touched\n`);
    setExitCode(EXIT.refused);
  } finally {
    interrupts.dispose();
    void lock.close().catch(() => undefined);
    journal.close();
  }
}

export function registerRun(program: Command, setExitCode: SetExitCode): void {
  const command = program
    .command('run')
    .description('Run a playbook on the inventory, as ansible-playbook does (check mode and diffs included)')
    .argument('<playbook>', 'playbook file (a list of plays)');
  withOptions(command, inventoryOption(), limitOption(), tagOptions())
    .option('-C, --check', 'compute what would change and change nothing')
    .option('-D, --diff', 'show unified diffs of the files that change (or would) and the commands that run')
    .option('--json', 'print one JSON event per line instead of text');
  withOptions(
    command,
    extraVarsOption(),
    forksOption(50, 'hosts worked on at once within a task'),
    journalOption(),
  ).option(
    '-b, --become',
    'run every command as the become user (sudo, or su with ansible_become_method: su), whatever the inventory says',
  );
  withOptions(command, connectionOptions())
    .option('--syntax-check', 'only check the playbook (no inventory, no host)')
    .option('--list-hosts', 'print the hosts of each play and exit')
    .option('--list-tasks', 'print the tasks of each play (after --tags/--skip-tags) and exit')
    .addHelpText(
      'after',
      `\n${EXIT_HELP}\n\n` +
        'Examples:\n  rollgate run playbooks/enable-iommu-passthrough.yml -i inventory/hosts.yml --check --diff\n' +
        '  rollgate run playbooks/kernel-update.yml -i inventory/hosts.yml --limit canary -e target_kernel=6.1.0-13-amd64',
    )
    .action((playbookPath: string, opts: RunCliOptions) => run(playbookPath, opts, setExitCode));
}
