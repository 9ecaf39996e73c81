/**
 * `rollgate undo RUN [-i INV] [--limit P]`: undo every journaled change of a run on its hosts, newest first, from
 * the journal alone (a run killed mid-step included). Hosts come from the journal; the inventory (by default the
 * one the run used) says how to reach them; --limit narrows them with an Ansible pattern.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import type { SetExitCode } from './index.js';
import {
  collect,
  connectionOptions,
  forksOption,
  journalOption,
  positiveNumber,
  withOptions,
  type ConnectionOptions,
} from '../options.js';
import { sessionFleetLock, sessionJournal, sessionTargets } from '../session.js';
import { EXIT, EXIT_HELP, exitCodeOf } from '../exit-codes.js';
import { escapeTerminal } from '../../render/terminal-text.js';

interface UndoOptions extends ConnectionOptions {
  inventory?: string[];
  limit?: string;
  journal?: string;
  json?: boolean;
  become?: boolean;
  force?: boolean;
  forks: string;
}

async function runUndo(runId: string, opts: UndoOptions, setExitCode: SetExitCode): Promise<void> {
  const forks = positiveNumber(opts.forks, '--forks', true)!;
  // Bad option values stop here, before the journal is opened.
  positiveNumber(opts.connectTimeout, '--connect-timeout', false);
  const [{ onInterrupt }, { movedHosts }, { loadInventory }, { selectHosts }, { undoRun, runHosts, UndoRefused }] =
    await Promise.all([
      import('../interrupts.js'),
      import('../../executor/machine-identity.js'),
      import('../../load/inventory.js'),
      import('../../load/limit.js'),
      import('../../executor/undo-run.js'),
    ]);
  const journal = await sessionJournal(opts.journal);
  const lock = await sessionFleetLock(journal);
  try {
    const run = journal.getRun(runId);
    if (!run)
      throw new ConfigError([
        {
          message: `no run ${runId} in ${journal.path}`,
          hint: 'run `rollgate runs` to list them, or pass --journal PATH',
        },
      ]);
    const sources = opts.inventory?.length ? opts.inventory : run.inventory;
    if (!sources.length)
      throw new ConfigError([
        { message: `run ${runId} recorded no inventory`, hint: 'pass -i INVENTORY to say how to reach its hosts' },
      ]);
    const inv = loadInventory(sources);
    const touched = runHosts(journal, runId);
    const selected = new Set(opts.limit ? selectHosts(inv, opts.limit) : touched);
    const names = touched.filter((h) => selected.has(h));
    const unknown = names.filter((h) => !inv.hosts.has(h));
    if (unknown.length) {
      throw new ConfigError([
        {
          message: `run ${runId} changed ${unknown.join(', ')}, which ${sources.join(', ')} does not define`,
          hint: 'pass the inventory the run used with -i, or leave those hosts out with --limit',
        },
      ]);
    }
    if (names.length === 0) {
      process.stdout.write(
        `run ${runId}: no host of the run matches${opts.limit ? ` --limit ${opts.limit}` : ''}; nothing to undo\n`,
      );
      return setExitCode(0);
    }
    const targets = await sessionTargets(
      names.map((n) => inv.hosts.get(n)!),
      { ...opts, become: opts.become ? true : undefined },
    );
    // Undo sends saved files to a machine: only to the one the run changed (unless the operator says it moved).
    const moved = opts.force ? [] : movedHosts(journal, runId, targets, inv.hosts);
    if (moved.length) throw new ConfigError(moved);
    let result;
    const interrupts = onInterrupt('undo', journal, lock);
    try {
      result = await undoRun({
        journal,
        lock,
        runId,
        targets,
        forks,
        force: opts.force === true,
        stop: interrupts.signal,
      });
    } catch (err) {
      if (!(err instanceof UndoRefused)) throw err;
      process.stderr.write(`rollgate undo: ${err.message}\n`);
      return setExitCode(EXIT.refused);
    } finally {
      interrupts.dispose();
    }
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      for (const h of result.hosts) {
        const r = h.report;
        const held = r?.skipped.length ? `, held back ${r.skipped.length}` : '';
        const detail = r
          ? `restored ${r.restored.length + r.removed.length} file(s), ran ${r.commands.length} undo command(s)${held}`
          : (h.message ?? '');
        process.stdout.write(
          escapeTerminal(
            `${h.host}  ${h.status}  ${h.steps.length} step(s)  ${detail}${h.status === 'failed' && h.message ? `\n  ${h.message}` : ''}\n`,
          ),
        );
        // A step that failed or was interrupted keeps what its undo command would have destroyed: say so.
        for (const s of r?.skipped ?? [])
          process.stdout.write(escapeTerminal(`  held back: ${s.command} (${s.reason})\n`));
      }
      process.stdout.write(`undo run ${result.undoRunId} of run ${runId}\n`);
    }
    if (result.interrupted) {
      process.stderr.write(
        `rollgate undo: ${result.interrupted}: the hosts in flight finished their undo, the others were not started; \`rollgate undo ${runId}\` again undoes what is left\n`,
      );
      return setExitCode(interrupts.exitCode() ?? EXIT.refused);
    }
    const failed = result.hosts.filter((h) => h.status === 'failed').length;
    const unreachable = result.hosts.filter((h) => h.status === 'unreachable').length;
    setExitCode(exitCodeOf({ failed, unreachable }));
  } finally {
    void lock.close().catch(() => undefined);
    journal.close();
  }
}

export function registerUndo(program: Command, setExitCode: SetExitCode): void {
  const undo = program
    .command('undo')
    .description(
      'Undo every journaled change of a run on its hosts, newest first, byte for byte (an interrupted run too)',
    )
    .argument('<run>', 'run id, as `rollgate runs` lists it')
    .option(
      '-i, --inventory <source>',
      'inventory to reach the hosts (repeatable; default: the one the run used)',
      collect,
    )
    .option('-l, --limit <pattern>', "only the run's hosts matching this Ansible pattern")
    .addOption(journalOption())
    .option('-b, --become', 'run as the become user (sudo, or su with ansible_become_method: su)')
    .option(
      '--force',
      'go on although a run is marked running by a controller on another machine (known dead), or a host now points to another address or host key than when the run changed it (the same machine, moved)',
    )
    .option('--json', 'print the result as one JSON object')
    .addOption(forksOption(10, 'hosts at once'));
  withOptions(undo, connectionOptions())
    .addHelpText(
      'after',
      `\nA step that failed or was interrupted gets its recorded files back, never an undo command that assumes it succeeded (printed as "held back").\nAn undo that failed on a host can be run again; refused (5) means the run is still in progress or its hosts are locked;\na host whose inventory entry now points elsewhere is refused (2) unless --force.\n${EXIT_HELP}\n\nExample:\n  rollgate undo 20250114-093012-4f2a --limit hv-03`,
    )
    .action((runId: string, opts: UndoOptions) => runUndo(runId, opts, setExitCode));
}
