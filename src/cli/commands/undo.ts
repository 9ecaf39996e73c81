/**
 * `rollgate undo RUN [-i INV] [--limit P]`: undo every journaled change of a run on its hosts, newest first, from
 * the journal alone (a run killed mid-step included). Hosts come from the journal; the inventory (by default the
 * one the run used) says how to reach them; --limit narrows them with an Ansible pattern.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../load/config-error.js';
import type { SetExitCode } from './index.js';
import { collect, positiveNumber } from './exec.js';
import { EXIT, EXIT_HELP, exitCodeOf } from '../exit-codes.js';
import { escapeTerminal } from '../../render/terminal-text.js';

interface UndoOptions {
  inventory?: string[];
  limit?: string;
  journal?: string;
  json?: boolean;
  become?: boolean;
  force?: boolean;
  forks: string;
  connectTimeout?: string;
  acceptNewHostKeys?: boolean;
  sshConfig?: string;
}

async function runUndo(runId: string, opts: UndoOptions, setExitCode: SetExitCode): Promise<void> {
  const forks = positiveNumber(opts.forks, '--forks', true)!;
  const connectS = positiveNumber(opts.connectTimeout, '--connect-timeout', false);
  const [{ Journal }, { resolveJournalPath }, { loadInventory }, { selectHosts }, { loadSshConfig }, { resolveTargets }, { undoRun, runHosts, UndoRefused }] =
    await Promise.all([
      import('../../journal/journal.js'),
      import('../../journal/journal-path.js'),
      import('../../load/inventory.js'),
      import('../../load/limit.js'),
      import('../../connection/ssh-config.js'),
      import('../../connection/resolve-target.js'),
      import('../../executor/undo-run.js'),
    ]);
  const journal = Journal.open(resolveJournalPath(opts.journal));
  try {
    const run = journal.getRun(runId);
    if (!run) throw new ConfigError([{ message: `no run ${runId} in ${journal.path}`, hint: 'run `rollgate runs` to list them, or pass --journal PATH' }]);
    const sources = opts.inventory?.length ? opts.inventory : run.inventory;
    if (!sources.length) throw new ConfigError([{ message: `run ${runId} recorded no inventory`, hint: 'pass -i INVENTORY to say how to reach its hosts' }]);
    const inv = loadInventory(sources);
    const touched = runHosts(journal, runId);
    const selected = new Set(opts.limit ? selectHosts(inv, opts.limit) : touched);
    const names = touched.filter((h) => selected.has(h));
    const unknown = names.filter((h) => !inv.hosts.has(h));
    if (unknown.length) {
      throw new ConfigError([{ message: `run ${runId} changed ${unknown.join(', ')}, which ${sources.join(', ')} does not define`, hint: 'pass the inventory the run used with -i, or leave those hosts out with --limit' }]);
    }
    if (names.length === 0) {
      process.stdout.write(`run ${runId}: no host of the run matches${opts.limit ? ` --limit ${opts.limit}` : ''}; nothing to undo\n`);
      return setExitCode(0);
    }
    const targets = resolveTargets(
      names.map((n) => inv.hosts.get(n)!),
      { sshConfig: loadSshConfig(opts.sshConfig), ...(opts.become ? { become: true } : {}), acceptNewHostKeys: opts.acceptNewHostKeys === true, ...(connectS ? { connectTimeoutMs: connectS * 1000 } : {}) },
    );
    let result;
    try {
      result = await undoRun({ journal, runId, targets, forks, force: opts.force === true });
    } catch (err) {
      if (!(err instanceof UndoRefused)) throw err;
      process.stderr.write(`rollgate undo: ${err.message}\n`);
      return setExitCode(EXIT.refused);
    }
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      for (const h of result.hosts) {
        const r = h.report;
        const detail = r ? `restored ${r.restored.length + r.removed.length} file(s), ran ${r.commands.length} rebuild command(s)` : (h.message ?? '');
        process.stdout.write(escapeTerminal(`${h.host}  ${h.status}  ${h.steps.length} step(s)  ${detail}${h.status === 'failed' && h.message ? `\n  ${h.message}` : ''}\n`));
      }
      process.stdout.write(`undo run ${result.undoRunId} of run ${runId}\n`);
    }
    const failed = result.hosts.filter((h) => h.status === 'failed').length;
    const unreachable = result.hosts.filter((h) => h.status === 'unreachable').length;
    setExitCode(exitCodeOf({ failed, unreachable }));
  } finally {
    journal.close();
  }
}

export function registerUndo(program: Command, setExitCode: SetExitCode): void {
  program
    .command('undo')
    .description('Undo every journaled change of a run on its hosts, newest first, byte for byte (an interrupted run too)')
    .argument('<run>', 'run id, as `rollgate runs` lists it')
    .option('-i, --inventory <source>', 'inventory to reach the hosts (repeatable; default: the one the run used)', collect)
    .option('-l, --limit <pattern>', 'only the run\'s hosts matching this Ansible pattern')
    .option('--journal <path>', 'journal database (default $ROLLGATE_JOURNAL, else ~/.local/state/rollgate/journal.db)')
    .option('-b, --become', 'run as root through `sudo -n`')
    .option('--force', 'undo a run marked running whose controller on another machine is known to be dead')
    .option('--json', 'print the result as one JSON object')
    .option('-f, --forks <n>', 'hosts at once', '10')
    .option('--connect-timeout <seconds>', 'TCP + SSH handshake budget per host')
    .option('--accept-new-host-keys', 'record host keys of hosts seen for the first time (a changed key is still refused)')
    .option('--ssh-config <file>', 'OpenSSH client config to read (default ~/.ssh/config when it exists)')
    .addHelpText('after', `\nAn undo that failed on a host can be run again; refused (5) means the run is still in progress or its hosts are locked.\n${EXIT_HELP}\n\nExample:\n  rollgate undo 20250114-093012-4f2a --limit hv-03`)
    .action((runId: string, opts: UndoOptions) => runUndo(runId, opts, setExitCode));
}
