/**
 * `rollgate check -i INV [--limit P] [--json] [--profile]`: gather every selected host's passthrough health
 * snapshot and print its findings in diagnosis order. `rollgate snapshot -i INV -o DIR` writes one JSON per host.
 * Exit status (the shared table, exit-codes.ts): 0 no error finding, 1 an error finding, 4 a host unreachable, 2 bad input.
 */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { desiredStatesOf } from '../../modules/findings/desired.js';
import { snapshotFileName } from '../../modules/facts/snapshot-file.js';
import type { CheckHost, HostCheck } from '../../executor/check-run.js';
import type { HostOutcome } from '../../executor/fleet.js';
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
import { formatCheck } from './check-format.js';
import { escapeTerminal } from '../../render/terminal-text.js';
import type { SetExitCode } from './index.js';
import { EXIT_HELP, exitCodeOf } from '../exit-codes.js';

interface CheckOptions extends ConnectionOptions {
  inventory: string[];
  limit?: string;
  json?: boolean;
  profile?: boolean | string;
  forks: string;
  become?: boolean;
  output?: string;
  html?: string;
}

type Checked = HostOutcome<HostCheck> & { vars?: Record<string, unknown> };

async function gather(opts: CheckOptions, quiet: boolean): Promise<Checked[]> {
  const forks = positiveNumber(opts.forks, '--forks', true)!;
  const profileSeconds =
    opts.profile === undefined || opts.profile === false
      ? 0
      : opts.profile === true
        ? 5
        : positiveNumber(opts.profile, '--profile', true)!;
  const [{ loadInventory }, { selectHosts }, { checkFleet }] = await Promise.all([
    import('../../load/inventory.js'),
    import('../../load/limit.js'),
    import('../../executor/check-run.js'),
  ]);
  const inv = loadInventory(opts.inventory);
  const names = selectHosts(inv, opts.limit);
  const states = desiredStatesOf(names.map((n) => inv.hosts.get(n)!)); // bad values: ConfigError with file:line:col
  const desired = names.map((n) => states.get(n)!);
  const targets = await sessionTargets(
    names.map((n) => inv.hosts.get(n)!),
    { ...opts, become: opts.become === false ? false : undefined },
  );
  const hosts: CheckHost[] = targets.map((target, i) => ({
    target,
    desired: desired[i]!,
    vars: inv.hosts.get(target.name)?.vars ?? {},
  }));
  const { bus, finish } = await sessionBus(
    !quiet && process.stderr.isTTY
      ? (await import('../../render/listr.js')).listrRenderer((t) => void process.stderr.write(t))
      : undefined,
  );
  const outcomes = await checkFleet(hosts, { bus, forks, profileSeconds });
  await finish();
  return outcomes.map((o) => ({ ...o, vars: inv.hosts.get(o.host)?.vars ?? {} }));
}

/** --html FILE: the topology picture and findings of every host as one self-contained page (docs/report.md). */
async function writeHtml(file: string | undefined, outcomes: Checked[]): Promise<void> {
  if (!file) return;
  const { renderCheckReport } = await import('../../render/report/html.js');
  writeFileSync(file, renderCheckReport(outcomes), { mode: 0o600 });
}

function checkExitCode(outcomes: HostOutcome<HostCheck>[]): number {
  return exitCodeOf({
    unreachable: outcomes.filter((o) => o.status === 'unreachable').length,
    failed: outcomes.filter((o) => o.status === 'failed' || (o.value?.report.errors ?? 0) > 0).length,
  });
}

export function registerCheck(program: Command, setExitCode: SetExitCode): void {
  const common = (c: Command) =>
    withOptions(
      withOptions(c, inventoryOption(), limitOption())
        .option(
          '--profile [seconds]',
          'also gather performance evidence over this many seconds (default 5): softirq share, vhost/vCPU placement, perf samples',
        )
        .option('--no-become', 'do not become root (sudo or su; sources that need root come back unknown)')
        .option('--html <file>', 'also write the IOMMU topology pictures and findings as one self-contained HTML page'),
      forksOption(50, 'hosts at once'),
      connectionOptions(),
    );
  common(
    program
      .command('check')
      .description("Gather each host's passthrough health snapshot and show its findings, in diagnosis order"),
  )
    .option('--json', 'print one JSON document: per host its snapshot and findings')
    .addHelpText('after', `\nAn error finding counts as a failed host.\n${EXIT_HELP}`)
    .action(async (opts: CheckOptions) => {
      const outcomes = await gather(opts, opts.json === true);
      await writeHtml(opts.html, outcomes);
      if (opts.json)
        process.stdout.write(
          JSON.stringify(
            {
              hosts: outcomes.map((o) => ({
                host: o.host,
                status: o.status,
                ...(o.kind ? { kind: o.kind, message: o.message } : {}),
                ...(o.value ?? {}),
              })),
            },
            null,
            2,
          ) + '\n',
        );
      else process.stdout.write(escapeTerminal(formatCheck(outcomes)));
      setExitCode(checkExitCode(outcomes));
    });
  common(
    program
      .command('snapshot')
      .description(
        "Write each host's passthrough health snapshot as DIR/HOST.json (store it before and after changes)",
      ),
  )
    .requiredOption('-o, --output <dir>', 'directory to write HOST.json files into')
    .addHelpText('after', `\n${EXIT_HELP}`)
    .action(async (opts: CheckOptions) => {
      const outcomes = await gather(opts, false);
      await writeHtml(opts.html, outcomes);
      mkdirSync(opts.output!, { recursive: true });
      for (const o of outcomes) {
        const file = join(opts.output!, snapshotFileName(o.host));
        if (o.value) writeFileSync(file, JSON.stringify(o.value.snapshot, null, 2) + '\n');
        process.stdout.write(
          escapeTerminal(
            o.value
              ? `${o.host}: ${file} (${o.value.snapshot.durationMs} ms)\n`
              : `${o.host}: ${o.status}${o.kind ? ` (${o.kind})` : ''}: ${o.message ?? ''}\n`,
          ),
        );
      }
      setExitCode(
        exitCodeOf({
          unreachable: outcomes.filter((o) => o.status === 'unreachable').length,
          failed: outcomes.filter((o) => o.status === 'failed').length,
        }),
      );
    });
}
