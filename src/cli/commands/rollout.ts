/**
 * `rollgate rollout PLAYBOOK -i INV`: the staged rollout (canary per hardware kind, batches, trial boot,
 * verification, automatic rollback); `rollgate resume RUN` after the controller stopped; `rollgate runs`;
 * `rollgate show RUN`. A play runs as a rollout whatever its `serial` says: `rollgate run` stays the plain
 * ansible-playbook-like runner, `rollgate rollout` is the one that reboots and rolls back.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../load/config-error.js';
import { loadInventory } from '../../load/inventory.js';
import { selectHosts } from '../../load/limit.js';
import { loadPlaybook } from '../../load/playbook.js';
import { loadSshConfig } from '../../connection/ssh-config.js';
import { resolveTargets } from '../../connection/resolve-target.js';
import { Journal } from '../../journal/journal.js';
import { resolveJournalPath } from '../../journal/journal-path.js';
import { powerDriversFor } from '../../power/index.js';
import { parseRolloutSettings, type RolloutSettings } from '../../strategy/settings.js';
import { runRollout } from '../../executor/rollout/rollout.js';
import { EventBus } from '../../events/events.js';
import { rolloutPlainRenderer } from '../../render/rollout-plain.js';
import { exitCodeFor, EXIT_HELP } from '../exit-codes.js';
import type { Play } from '../../load/playbook-types.js';
import type { SetExitCode } from './index.js';

interface RolloutOptions {
  inventory: string[];
  limit?: string;
  json?: boolean;
  yes?: boolean;
  journal?: string;
  bootTimeout?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The play's rollout settings: serial and max_fail_percentage as loaded, the rest from defaults or options. */
function settingsOf(play: Play, opts: RolloutOptions): RolloutSettings {
  const raw: Record<string, unknown> = {};
  if (play.serial) raw.serial = play.serial.map((s) => (s.kind === 'percent' ? `${s.value}%` : s.value));
  if (play.maxFailPercentage !== undefined) raw.max_fail_percentage = play.maxFailPercentage;
  const rollout = (play.vars as Record<string, unknown>).rollgate_rollout;
  if (rollout !== undefined) raw.rollout = rollout;
  const { settings, problems } = parseRolloutSettings(raw);
  if (problems.length) throw new ConfigError(problems.map((p) => ({ position: play.position, message: `${p.path.join('.')}: ${p.message}`, hint: p.hint })));
  if (opts.bootTimeout) settings.bootTimeoutSec = Number(opts.bootTimeout);
  return settings;
}

async function approveOnTty(yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('continue with the next batch? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

async function execute(opts: RolloutOptions & { playbook: string; runId?: string; resuming: boolean }, setExitCode: SetExitCode): Promise<void> {
  const playbook = loadPlaybook(opts.playbook);
  const play = playbook.plays[0];
  if (!play || playbook.plays.length > 1) throw new ConfigError([{ position: { file: playbook.file, line: 1, column: 1 }, message: 'a rollout takes a playbook with exactly one play', hint: 'split the plays into separate files' }]);
  const settings = settingsOf(play, opts);
  const inv = loadInventory(opts.inventory);
  const selected = new Set(selectHosts(inv, play.hosts, play.hostsPosition));
  const limited = opts.limit ? new Set(selectHosts(inv, opts.limit)) : selected;
  const hosts = [...inv.hosts.values()].filter((h) => selected.has(h.name) && limited.has(h.name));
  const targets = resolveTargets(hosts, { sshConfig: loadSshConfig(undefined) });
  const power = powerDriversFor(hosts, { locate: (host, path) => inv.hosts.get(host)?.varOrigins[path[0] as string] });
  const journal = Journal.open(resolveJournalPath(opts.journal));
  try {
    const runId = opts.runId ?? journal.createRun({ kind: 'rollout', playbook: opts.playbook, inventory: opts.inventory, limit: opts.limit, options: { boot_timeout: settings.bootTimeoutSec } }).id;
    const bus = new EventBus();
    bus.on((e) => journal.addEvent(runId, e));
    bus.on(opts.json ? (e) => void process.stdout.write(`${JSON.stringify(e)}\n`) : rolloutPlainRenderer());
    const outcome = await runRollout({
      journal, runId, play, hosts, settings, power, resuming: opts.resuming,
      targets: new Map(targets.map((t) => [t.name, t])),
      emit: (e) => bus.emit(e),
      approve: () => approveOnTty(opts.yes),
    });
    setExitCode(exitCodeFor(outcome.result));
  } finally {
    journal.close();
  }
}

export function registerRollout(program: Command, setExitCode: SetExitCode): void {
  program
    .command('rollout')
    .description('Staged rollout of a play: one canary per hardware kind, then batches; trial boot, verification, automatic rollback')
    .argument('<playbook>', 'playbook with one play')
    .requiredOption('-i, --inventory <source>', 'inventory file, directory or host list (repeatable)', collect)
    .option('-l, --limit <pattern>', 'only hosts matching this Ansible pattern')
    .option('--json', 'one JSON event per line on stdout')
    .option('-y, --yes', 'approve pauses without asking')
    .option('--boot-timeout <seconds>', 'seconds to wait for a host to come back from a boot (default: play, else 600)')
    .option('--journal <path>', 'journal database (default $ROLLGATE_JOURNAL or ~/.local/state/rollgate/journal.db)')
    .addHelpText('after', `\nPlay settings: serial, max_fail_percentage (Ansible's meaning), and in vars.rollgate_rollout:\n  canary (per_kind|none), canary_serial, pause_after_canaries (approve|SECONDS), pause_between_batches,\n  boot_timeout, panic_timeout. Power control per host: rollgate_power (qmp, ipmi, redfish).\n\n${EXIT_HELP}\n`)
    .action((playbook: string, opts: RolloutOptions) => execute({ ...opts, playbook, resuming: false }, setExitCode));

  program
    .command('resume')
    .description('Continue a rollout whose controller stopped: each host is found where it is and completed or rolled back')
    .argument('<run>', 'run id (see `rollgate runs`)')
    .option('--json', 'one JSON event per line on stdout')
    .option('-y, --yes', 'approve pauses without asking')
    .option('--journal <path>', 'journal database')
    .addHelpText('after', `\n${EXIT_HELP}\n`)
    .action(async (runId: string, opts: RolloutOptions) => {
      const journal = Journal.open(resolveJournalPath(opts.journal));
      const run = journal.getRun(runId);
      journal.close();
      if (!run) throw new ConfigError([{ message: `no run ${runId} in the journal`, hint: 'list runs with `rollgate runs`' }]);
      if (run.kind !== 'rollout' || !run.playbook) throw new ConfigError([{ message: `run ${runId} is a ${run.kind}, not a rollout`, hint: 'resume applies to `rollgate rollout` runs' }]);
      await execute({ ...opts, inventory: run.inventory, limit: run.limit ?? undefined, playbook: run.playbook, runId, resuming: true }, setExitCode);
    });

  program
    .command('runs')
    .description('List runs in the journal, newest first')
    .option('--journal <path>', 'journal database')
    .action((opts: { journal?: string }) => {
      const journal = Journal.open(resolveJournalPath(opts.journal));
      try {
        for (const r of journal.listRuns()) {
          const hosts = journal.listHosts(r.id);
          process.stdout.write(`${r.id}  ${r.kind.padEnd(7)} ${r.status.padEnd(12)} ${new Date(r.startedAt).toISOString()}  ${hosts.length} host(s)  ${r.playbook ?? ''}\n`);
        }
      } finally {
        journal.close();
      }
    });

  program
    .command('show')
    .description('Per-host timeline of a run: steps, verifications (as diffs), rollbacks')
    .argument('<run>', 'run id')
    .option('--host <name>', 'only this host')
    .option('--journal <path>', 'journal database')
    .action((runId: string, opts: { host?: string; journal?: string }) => {
      const journal = Journal.open(resolveJournalPath(opts.journal));
      try {
        const run = journal.getRun(runId);
        if (!run) throw new ConfigError([{ message: `no run ${runId} in the journal`, hint: 'list runs with `rollgate runs`' }]);
        process.stdout.write(`run ${run.id} (${run.kind}) ${run.status}, started ${new Date(run.startedAt).toISOString()}\n`);
        for (const h of journal.listHosts(runId).filter((x) => !opts.host || x.host === opts.host)) {
          process.stdout.write(`\n${h.host}: ${h.status}\n`);
          for (const e of journal.listEvents(runId, h.host)) {
            const ev = e.data as Parameters<ReturnType<typeof rolloutPlainRenderer>>[0];
            const t = new Date(e.at).toISOString().slice(11, 19);
            rolloutPlainRenderer((text) => void process.stdout.write(`  ${t} ${text}`))(ev);
          }
          for (const s of journal.listSteps(runId, h.host)) {
            process.stdout.write(`  step #${s.id} ${s.module} "${s.task}": ${s.status}${s.undoneAt ? ' (undone)' : ''}\n`);
          }
        }
      } finally {
        journal.close();
      }
    });
}

