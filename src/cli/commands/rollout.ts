/**
 * `rollgate rollout PLAYBOOK -i INV`: the staged rollout of a one-play playbook (canary per hardware kind, then
 * batches; the play's tasks through the playbook executor; its reboot as a one-shot trial boot; verification
 * against the pre-change snapshot; automatic rollback). `rollgate resume RUN` continues a rollout whose controller
 * stopped. Everything is checked (playbook, inventory, plan, extra vars, power drivers, cluster caps) before any
 * host is contacted.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../core/config-error.js';
import { EXIT, EXIT_HELP, exitCodeOf } from '../exit-codes.js';
import {
  collect,
  connectionOptions,
  extraVarsOption,
  forksOption,
  inventoryOption,
  journalOption,
  limitOption,
  positiveNumber,
  tagOptions,
  withOptions,
  type ConnectionOptions,
} from '../options.js';
import { sessionBus, sessionFleetLock, sessionJournal, sessionTargets, type Renderer } from '../session.js';
import { LEASE_TTL_MS } from '../../journal/run-lease.js';
import type { SetExitCode } from './index.js';
import type { WindowInput } from '../../strategy/window.js';
import { windowFlagsOf, windowInputOf, windowOf, windowOptions, type WindowOptions } from '../window-options.js';
import { rememberedConnection, resumedConnection, type RememberedConnection } from '../remembered-connection.js';
import { fleetLockInUse, fleetLockShown, sameFleetLock } from '../fleet-lock-option.js';
import { checkClusterCaps, hostWindows } from '../rollout-host-vars.js';

const LEASE_TTL_S = LEASE_TTL_MS / 1000;

interface RolloutOptions extends ConnectionOptions, WindowOptions {
  inventory: string[];
  force?: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: string[];
  json?: boolean;
  yes?: boolean;
  journal?: string;
  bootTimeout?: string;
  forks?: string;
  prepareBoot?: boolean;
}

async function approveOnTty(yes: boolean | undefined, stop: AbortSignal): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || stop.aborted) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // The terminal is raw while asking: Ctrl-C arrives as a key, and must stop the rollout as the signal does.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    return /^y(es)?$/i.test((await rl.question('continue with the next batch? [y/N] ', { signal: stop })).trim());
  } catch (err) {
    if (stop.aborted) return false;
    throw err;
  } finally {
    rl.close();
  }
}

async function execute(
  opts: RolloutOptions & { playbook: string; runId?: string; resuming: boolean },
  setExitCode: SetExitCode,
): Promise<void> {
  const bootTimeout = positiveNumber(opts.bootTimeout, '--boot-timeout', true);
  const forks = positiveNumber(opts.forks, '--forks', true) ?? 10;
  const [
    { loadPlaybook },
    { loadInventory },
    { planRun },
    { parseExtraVars },
    { rolloutSettingsOf },
    { powerDriversFor },
  ] = await Promise.all([
    import('../../load/playbook.js'),
    import('../../load/inventory.js'),
    import('../../plan/plan.js'),
    import('../../load/extra-vars.js'),
    import('../../strategy/play-settings.js'),
    import('../../power/index.js'),
  ]);
  const playbook = loadPlaybook(opts.playbook);
  if (playbook.plays.length !== 1)
    throw new ConfigError([
      {
        position: { file: playbook.file, line: 1, column: 1 },
        message: `a rollout takes a playbook with exactly one play; this one has ${playbook.plays.length}`,
        hint: 'split the plays into separate files and roll them out one after another',
      },
    ]);
  const inv = loadInventory(opts.inventory);
  const plan = planRun(inv, playbook, {
    ...(opts.limit ? { limit: opts.limit } : {}),
    tags: opts.tags,
    skipTags: opts.skipTags,
  });
  const planned = plan.plays[0]!;
  const settings = rolloutSettingsOf(planned.play);
  if (bootTimeout) settings.bootTimeoutSec = bootTimeout;
  // The operator's consent on the command line, as the play's `rollout: prepare_boot: true` gives it.
  if (opts.prepareBoot) settings.prepareBoot = true;
  const extraVars = parseExtraVars(opts.extraVars);
  const windowInput = windowInputOf(opts);
  // The command line's window; without one the play's (`rollout: window:`, in settings) applies.
  const window = await windowOf(windowInput);
  const byHost = await hostWindows(inv, planned.hosts);
  const hosts = planned.hosts.map((n) => inv.hosts.get(n)!);
  const power = powerDriversFor(hosts, { locate: (host, path) => inv.hosts.get(host)?.varOrigins[path[0] as string] });
  await checkClusterCaps(inv, planned.hosts);
  const [{ onInterrupt }, { runRollout }, { rolloutRecord }, { movedHosts }, { runSecrets }] = await Promise.all([
    import('../interrupts.js'),
    import('../../executor/rollout/rollout.js'),
    import('../../executor/run-record.js'),
    import('../../executor/machine-identity.js'),
    import('../../executor/run-secrets.js'),
  ]);
  // The rollout always works as root (boot loader, reboot): every command goes through sudo.
  const targets = await sessionTargets(hosts, { ...opts, become: true });
  // After the targets: the become passwords they were given (-K, templated ones) are secrets too.
  const secrets = runSecrets({ inventory: inv, plays: [planned.play], extraVars });
  const journal = await sessionJournal(opts.journal);
  journal.secrets = secrets;
  const lock = await sessionFleetLock(journal);
  let interrupts: ReturnType<typeof onInterrupt> | undefined;
  try {
    // A resumed host must still be the machine the run changed: a name that now points elsewhere is refused here.
    const moved = opts.runId && !opts.force ? movedHosts(journal, opts.runId, targets, inv.hosts) : [];
    if (moved.length) throw new ConfigError(moved);
    const fleetLock = fleetLockInUse();
    const run = opts.runId
      ? { runId: opts.runId }
      : {
          record: rolloutRecord({
            playbook: resolve(opts.playbook),
            inventory: opts.inventory,
            ...(opts.limit ? { limit: opts.limit } : {}),
            tags: opts.tags,
            skipTags: opts.skipTags,
            extraVars,
            bootTimeoutSec: settings.bootTimeoutSec,
            ...(opts.prepareBoot ? { prepareBoot: true } : {}),
            ...(windowInput ? { window: windowInput } : {}),
            connection: rememberedConnection(opts),
            ...(fleetLock ? { fleetLock: fleetLockShown(fleetLock) } : {}),
          }),
        };
    const approvals =
      !opts.yes &&
      (settings.pauseAfterCanaries?.kind === 'approval' || settings.pauseBetweenBatches?.kind === 'approval');
    const renderer: Renderer = opts.json
      ? { listener: (e) => void process.stdout.write(`${JSON.stringify(e)}\n`) }
      : process.stderr.isTTY && !approvals
        ? (await import('../../render/rollout-listr.js')).rolloutListrRenderer()
        : { listener: (await import('../../render/rollout-plain.js')).rolloutPlainRenderer() };
    // The rollout journals every event of its run (executor/rollout/rollout.ts); the renderer shows them.
    const { bus, finish } = await sessionBus(renderer);
    interrupts = onInterrupt(opts.resuming ? 'resume' : 'rollout', journal, lock);
    const stop = interrupts.signal;
    const outcome = await runRollout({
      ...run,
      journal,
      lock,
      planned,
      inventory: inv,
      settings,
      power,
      bus,
      extraVars,
      forks,
      stop,
      playbookDir: dirname(resolve(opts.playbook)),
      targets: new Map(targets.map((t) => [t.name, t])),
      approve: () => approveOnTty(opts.yes, stop),
      ...(opts.resuming ? { resuming: true } : {}),
      ...(opts.force ? { force: true } : {}),
      secrets,
      ...(window || byHost.size ? { window: { window, byHost } } : {}),
    });
    await finish();
    const command = `rollgate ${opts.resuming ? 'resume' : 'rollout'}`;
    const { runId } = outcome;
    if (outcome.result === 'lock_refused') {
      process.stderr.write(`${command}: refused:\n${outcome.stopped ?? ''}\nnothing was touched\n`);
      return setExitCode(EXIT.refused);
    }
    if (!opts.json)
      process.stderr.write(`\nrun ${runId}: \`rollgate show ${runId}\` for every step; journal ${journal.path}\n`);
    const count = (s: string) => [...outcome.hosts.values()].filter((v) => v === s).length;
    const tally = {
      failed: count('failed'),
      unreachable: count('unreachable'),
      rolledBack: count('rolled_back'),
      needsPerson: count('needs_person'),
    };
    if (outcome.windowStop) {
      const midChange = outcome.interrupted?.midChange ?? [];
      process.stderr.write(
        `${command}: stopped by the maintenance window: ${outcome.windowStop}; the hosts not started are untouched${midChange.length ? `; ${midChange.join(', ')} stopped mid-change and keep the lock` : ''}; run ${runId} is marked interrupted: \`rollgate resume ${runId}\` inside the window goes on with them\n`,
      );
      const worse = exitCodeOf(tally);
      return setExitCode(worse === EXIT.ok ? EXIT.window : worse);
    }
    if (outcome.interrupted) {
      const { reason, midChange } = outcome.interrupted;
      const kept = midChange.length
        ? `${midChange.join(', ')} stopped mid-change and keep${midChange.length === 1 ? 's' : ''} the lock: \`rollgate resume ${runId}\` finishes or rolls back, \`rollgate undo ${runId}\` takes the changes back`
        : `no host was left mid-change; \`rollgate resume ${runId}\` goes on with the hosts not done`;
      process.stderr.write(
        `${command}: ${reason}: stopped between steps; run ${runId} is marked interrupted; ${kept}\n`,
      );
      return setExitCode(interrupts.exitCode() ?? EXIT.refused);
    }
    setExitCode(exitCodeOf(tally));
  } catch (err) {
    throw secrets.scrubError(err);
  } finally {
    interrupts?.dispose();
    void lock.close().catch(() => undefined);
    journal.close();
  }
}

export function registerRollout(program: Command, setExitCode: SetExitCode): void {
  const rollout = program
    .command('rollout')
    .description(
      'Staged rollout of a play: one canary per hardware kind, then batches; trial boot, verification, automatic rollback',
    )
    .argument('<playbook>', 'playbook with one play')
    .addOption(inventoryOption())
    .addOption(limitOption());
  withOptions(rollout, tagOptions(), extraVarsOption())
    .option('--json', 'one JSON event per line on stdout')
    .option('-y, --yes', 'approve pauses without asking')
    .option(
      '--boot-timeout <seconds>',
      "seconds to wait for a host to come back from a boot (default: the play's rollout.boot_timeout, else 600)",
    )
    .option(
      '--prepare-boot',
      "make a GRUB host with stock defaults (GRUB_DEFAULT=0, a recordfail that waits forever) trial-boot ready first, as a journaled change undone on rollback (the play's rollout.prepare_boot: true)",
    );
  withOptions(rollout, forksOption(10, 'hosts of a batch worked on at once'), connectionOptions(), journalOption())
    .addHelpText(
      'after',
      `
Play settings: serial and max_fail_percentage (Ansible's meaning), and the play keyword \`rollout:\` with canary
(per_kind|none), canary_serial, pause_after_canaries / pause_between_batches (approve|SECONDS|false), boot_timeout,
panic_timeout, prepare_boot (true: make a GRUB classic host trial-boot ready first with boot_default, undone on rollback),
verify: {services: [...], wanted: [...]}, window: {days, start, end, timezone, on_outside, max_wait} (the
maintenance window below, written in the play). Per host: rollgate_power (qmp, ipmi, redfish) for power
resets (a host without one is named in a WARNING before any change), rollgate_cluster + rollgate_max_down to cap
how many hosts of a cluster are down at once.

Maintenance window (Kured's options; they replace the play's \`rollout: window:\`, and a host's rollgate_window
goes first): a host's change starts only inside it, e.g. --reboot-days mon,tue
--start-time 22:00 --end-time 04:00 --time-zone Europe/Berlin. Outside it the rollout waits (said on the host's
line with the local time it opens; at most --window-max-wait seconds) or, with --on-outside stop, stops before the
host: the run is marked interrupted and \`rollgate resume RUN\` goes on later, inside the window again. A host
already started finishes (or rolls back) even past the window's end.

The rollout owns the reboot: the play's \`reboot\` task boots the candidate once (one-shot entry, panic=N) while the
known-good entry stays the default; \`verify\` tasks say what the verification after the play checks against the
pre-change snapshot. A play that changed a host without rebooting it still gets a trial boot; one that changed
nothing is not rebooted. Only a verified host keeps the change; the others are rolled back by themselves.

${EXIT_HELP}
`,
    )
    .action((playbook: string, opts: RolloutOptions) => execute({ ...opts, playbook, resuming: false }, setExitCode));
  windowOptions(rollout);

  const resume = withOptions(program.command('resume'), connectionOptions())
    .description(
      'Continue a rollout whose controller stopped: each host is found where it is and completed or rolled back',
    )
    .argument('<run>', 'run id (see `rollgate runs`)')
    .option('--json', 'one JSON event per line on stdout')
    .option('-y, --yes', 'approve pauses without asking')
    .option('--boot-timeout <seconds>', 'seconds to wait for a host to come back from a boot')
    .option(
      '-e, --extra-vars <vars>',
      'again, for the secret values the journal does not keep (resume names them)',
      collect,
      [],
    )
    .option(
      '--force',
      'a host now reached at another address or presenting another host key than when the run changed it is the same machine',
    )
    .option('--journal <path>', 'journal: a SQLite file or a postgresql:// URL')
    .addHelpText(
      'after',
      `
Refused (5) while the run's controller is alive (same machine: its pid and a fresh lease; another machine: a lease
not expired, at most ${LEASE_TTL_S} s after it died); a dead controller's run is taken over in one transaction.
A host whose inventory entry now points to another address (exit 2) or that presents another host key (it is not
touched) is refused unless --force. It logs in as the run did: its --ssh-config, --connect-timeout and
--become-password-file are kept with the run (paths, never a password) and used unless given again; a run started
with -K needs -K (or a password file) again; --accept-new-host-keys is never carried over.
A run started under a shared fleet lock (--fleet-lock, ROLLGATE_FLEET_LOCK_URL) resumes only under the same one
(exit 2 otherwise): its host locks and cluster down-slots are there.

${EXIT_HELP}
`,
    )
    .action(async (runId: string, opts: RolloutOptions) => {
      const { openJournal } = await import('../journal-open.js');
      const journal = openJournal(opts.journal);
      const run = journal.getRun(runId);
      journal.close();
      if (!run)
        throw new ConfigError([{ message: `no run ${runId} in the journal`, hint: 'list runs with `rollgate runs`' }]);
      if (run.kind !== 'rollout' || !run.playbook)
        throw new ConfigError([
          {
            message: `run ${runId} is a ${run.kind}, not a rollout`,
            hint: 'resume applies to `rollgate rollout` runs',
          },
        ]);
      const o = run.options as {
        tags?: string[];
        skipTags?: string[];
        extraVars?: Record<string, unknown>;
        bootTimeout?: number;
        prepareBoot?: boolean;
        window?: WindowInput;
        connection?: RememberedConnection;
        fleetLock?: string;
      };
      sameFleetLock(runId, o.fleetLock);
      const [{ parseExtraVars }, { REDACTED }] = await Promise.all([
        import('../../load/extra-vars.js'),
        import('../../journal/redact.js'),
      ]);
      const again = parseExtraVars(opts.extraVars ?? []);
      const missing = Object.entries(o.extraVars ?? {})
        .filter(([k, v]) => JSON.stringify(v).includes(REDACTED) && !(k in again))
        .map(([k]) => k);
      if (missing.length > 0) {
        throw new ConfigError([
          {
            message: `run ${runId} was started with -e ${missing.join(', ')}: secrets the journal does not keep`,
            hint: `pass them again: rollgate resume ${runId} ${missing.map((k) => `-e ${k}=...`).join(' ')}`,
          },
        ]);
      }
      await execute(
        {
          ...opts,
          // How the run logged in (ssh_config, timeout, sudo's password file), unless given again.
          ...resumedConnection(runId, opts, o.connection),
          inventory: run.inventory,
          ...(run.limit ? { limit: run.limit } : {}),
          playbook: run.playbook,
          runId,
          resuming: true,
          tags: o.tags ?? [],
          skipTags: o.skipTags ?? [],
          extraVars: [...(o.extraVars ? [JSON.stringify(o.extraVars)] : []), ...(opts.extraVars ?? [])],
          ...(opts.bootTimeout ? {} : o.bootTimeout ? { bootTimeout: String(o.bootTimeout) } : {}),
          // The consent to prepare the boot loader holds for the run it was given to.
          ...(o.prepareBoot ? { prepareBoot: true } : {}),
          // The run's window holds on resume too, unless window options are given again.
          ...(windowInputOf(opts) ? {} : windowFlagsOf(o.window)),
        },
        setExitCode,
      );
    });
  windowOptions(resume);
}
