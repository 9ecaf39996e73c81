/**
 * `rollgate exec -i INV [--limit P] [--become] [--json] -- COMMAND`: one shell command on every selected host
 * (like `ansible -m raw`), strict host keys, one connection per host, 50 hosts at once by default.
 * Every host is resolved before any is contacted, so bad input touches no host.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-error.js';
import type { SetExitCode } from './index.js';
import { EXIT_HELP, exitCodeOf } from '../exit-codes.js';
import {
  connectionOptions,
  forksOption,
  inventoryOption,
  limitOption,
  positiveNumber,
  withOptions,
  type ConnectionOptions,
} from '../options.js';
import { sessionBus, sessionTargets } from '../session.js';

interface ExecOptions extends ConnectionOptions {
  inventory: string[];
  limit?: string;
  become?: boolean;
  json?: boolean;
  timeout?: string;
  forks: string;
}

/** The shared table (exit-codes.ts): 0 all ok, 1 a command failed (or timed out, or sudo refused), 4 a host was unreachable. */
export function execExitCode(counts: { failed: number; unreachable: number }): number {
  return exitCodeOf(counts);
}

async function runExec(words: string[], opts: ExecOptions, setExitCode: SetExitCode): Promise<void> {
  const forks = positiveNumber(opts.forks, '--forks', true)!;
  const timeoutS = positiveNumber(opts.timeout, '--timeout', false);
  const command = words.join(' ');
  if (command.trim() === '')
    throw new ConfigError([
      { message: 'no command given', hint: 'put the command after --, e.g. rollgate exec -i hosts.yml -- uname -r' },
    ]);
  // Loaded here, not at startup: `rollgate --help` and other commands do not pay for ssh2.
  const [{ loadInventory }, { selectHosts }, { runAdHoc }, { runSecrets }] = await Promise.all([
    import('../../load/inventory.js'),
    import('../../load/limit.js'),
    import('../../executor/ad-hoc.js'),
    import('../../executor/run-secrets.js'),
  ]);
  const inv = loadInventory(opts.inventory);
  const names = selectHosts(inv, opts.limit);
  if (names.length === 0) {
    process.stderr.write('rollgate exec: no hosts matched, nothing to do\n');
    return setExitCode(0);
  }
  const targets = await sessionTargets(
    names.map((n) => inv.hosts.get(n)!),
    { ...opts, become: opts.become ? true : undefined },
  );
  const { bus, finish } = await sessionBus(
    opts.json
      ? { listener: (await import('../../render/json-lines.js')).jsonLinesRenderer('results') }
      : process.stdout.isTTY
        ? (await import('../../render/listr.js')).listrRenderer()
        : { listener: (await import('../../render/plain.js')).plainRenderer() },
  );
  // A host that prints an inventory secret (or a BMC password) shows [redacted], as in `rollgate run`; the bus
  // scrubs before any listener sees an event.
  const secrets = runSecrets({ inventory: inv, plays: [], extraVars: {} });
  bus.scrubWith((e) => secrets.scrub(e));
  const outcomes = await runAdHoc(targets, command, {
    bus,
    forks,
    ...(timeoutS ? { timeoutMs: timeoutS * 1000 } : {}),
  });
  await finish();
  setExitCode(
    execExitCode({
      failed: outcomes.filter((o) => o.status === 'failed').length,
      unreachable: outcomes.filter((o) => o.status === 'unreachable').length,
    }),
  );
}

export function registerExec(program: Command, setExitCode: SetExitCode): void {
  const exec = program
    .command('exec')
    .description("Run one shell command on every selected host (like `ansible -m raw`) and show each host's output")
    .argument('<command...>', 'the command, after --; its words are joined with spaces and run by the login shell')
    .addOption(inventoryOption())
    .addOption(limitOption('only hosts matching this Ansible pattern (group, host, glob, !exclude, &intersect)'))
    .option(
      '-b, --become',
      'run the command as the become user (root by default) through `sudo -n`, `sudo -S` with -K or a password, or su (ansible_become_method: su); fails clearly on a wrong or missing password',
    )
    .option('--json', 'print one JSON object per host as it finishes, then a summary object')
    .option('-t, --timeout <seconds>', 'kill the command on a host after this long (the host is failed, kind timeout)')
    .addOption(forksOption(50, 'hosts at once'));
  withOptions(exec, connectionOptions())
    .addHelpText(
      'after',
      `\n${EXIT_HELP}\n\n` + 'Example:\n  rollgate exec -i inventory/hosts.yml --limit hypervisors -- uname -r',
    )
    .action((words: string[], opts: ExecOptions) => runExec(words, opts, setExitCode));
}
