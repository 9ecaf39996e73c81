/**
 * The composition root of a session on hosts: the one place `run`, `rollout`, `exec`, `check` and `undo` turn
 * their shared options into finished SSH targets (targets/ with ~/.ssh/config, become, the connect timeout and
 * new-host-key policy), an event bus with its renderer, the journal and the fleet lock the executor is given. Commands compose these instead of wiring
 * each by hand. Heavy modules are imported here only when a command asks for that part.
 */
import type { BecomePassword } from '../connection/become-password.js';
import type { SshTarget } from '../connection/target.js';
import { ConfigError } from '../core/config-error.js';
import type { EventBus, RollgateEvent } from '../events/events.js';
import type { FleetLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import type { RunRow } from '../journal/journal-types.js';
import type { UnlockResult } from '../render/journal-plain.js';
import type { TargetHost } from '../targets/resolve-target.js';
import { positiveNumber, type ConnectionOptions } from './options.js';

export interface TargetChoices extends ConnectionOptions {
  /** true: every command as the become user (sudo or su); false: never; absent: as the inventory says. */
  become?: boolean;
}

/** Finished targets for `hosts`, or one ConfigError listing every host's problem. */
export async function sessionTargets(hosts: readonly TargetHost[], opts: TargetChoices): Promise<SshTarget[]> {
  const connectS = positiveNumber(opts.connectTimeout, '--connect-timeout', false);
  const [{ loadSshConfig }, { resolveTargets }] = await Promise.all([
    import('../targets/ssh-config.js'),
    import('../targets/resolve-target.js'),
  ]);
  const becomePassword = await sessionBecomePassword(opts);
  return resolveTargets(hosts, {
    sshConfig: loadSshConfig(opts.sshConfig),
    ...(becomePassword ? { becomePassword } : {}),
    ...(opts.become !== undefined ? { become: opts.become } : {}),
    acceptNewHostKeys: opts.acceptNewHostKeys === true,
    ...(connectS ? { connectTimeoutMs: connectS * 1000 } : {}),
  });
}

/** sudo's password from `-K` (asked once) or `--become-password-file`; none without either. */
async function sessionBecomePassword(opts: ConnectionOptions): Promise<BecomePassword | undefined> {
  const { BecomePassword } = await import('../connection/become-password.js');
  if (opts.becomePasswordFile !== undefined) {
    // Ansible's meaning: the file's text, stripped, or what it prints when it is executable (a secrets-manager script).
    const { passwordFromFile } = await import('../core/password-file.js');
    const file = opts.becomePasswordFile;
    return new BecomePassword(await passwordFromFile(file, '--become-password-file'), `--become-password-file ${file}`);
  }
  if (!opts.askBecomePass) return undefined;
  const { promptHidden } = await import('./prompt.js');
  const password = await promptHidden('BECOME password: ');
  if (!password)
    throw new ConfigError([
      {
        message: 'no become password typed for --ask-become-pass',
        hint: "type the become password (sudo's, or the become user's for su), or leave out -K",
      },
    ]);
  return new BecomePassword(password, '--ask-become-pass');
}

/** An event bus with its listeners; `finish()` lets a live renderer draw its last frame. */
export interface SessionBus {
  bus: EventBus;
  finish(): Promise<void>;
}

/** A renderer chosen by the command: a listener, and what to await once the work is done. */
export type Renderer = { listener: (e: RollgateEvent) => void; done?: () => Promise<void> };

/** The session's bus, with the command's renderers (none: events go nowhere but the listeners added later). */
export async function sessionBus(...renderers: Array<Renderer | undefined>): Promise<SessionBus> {
  const { EventBus } = await import('../events/events.js');
  const bus = new EventBus();
  const done: Array<() => Promise<void>> = [];
  for (const r of renderers) {
    if (!r) continue;
    bus.on(r.listener);
    if (r.done) done.push(r.done);
  }
  return {
    bus,
    finish: async () => {
      for (const d of done) await d();
    },
  };
}

/** The journal at `--journal` (else $ROLLGATE_JOURNAL, else the default path). */
export async function sessionJournal(path: string | undefined): Promise<Journal> {
  return (await import('./journal-open.js')).openJournal(path);
}

/**
 * The fleet lock this invocation's runs hold their hosts in: the PostgreSQL one several controllers share
 * (--fleet-lock, else ROLLGATE_FLEET_LOCK_URL; openJournal has checked the URL), else the one in `journal`. The
 * executor is given it; `close()` it when the command is done.
 */
export async function sessionFleetLock(journal: Journal): Promise<FleetLock> {
  const url = (await import('./fleet-lock-option.js')).fleetLockInUse();
  if (url === undefined) return journal.fleetLock();
  const { PgFleetLock } = await import('../journal/pg-fleet-lock.js');
  return new PgFleetLock(url);
}

/** How `runs` and `show` print the journal: the line of one run, and the lines of a run's `show`. */
export interface JournalView {
  runLine(journal: Journal, run: RunRow): string;
  show(journal: Journal, run: RunRow, host?: string): string[];
}

/** The journal's renderer: JSON for scripts (`--json`: a run per line, `show` one document), else text. */
export async function sessionJournalView(json: boolean | undefined): Promise<JournalView> {
  if (json) {
    const { runSummary, runDetail } = await import('../render/journal-json.js');
    return {
      runLine: (journal, run) => JSON.stringify(runSummary(journal, run)),
      show: (journal, run, host) => [JSON.stringify(runDetail(journal, run, host ? [host] : undefined))],
    };
  }
  const { runListLine, runTimelineLines } = await import('../render/journal-plain.js');
  return { runLine: runListLine, show: runTimelineLines };
}

/** `unlock`'s renderer: what it released, as text (it has no --json). */
export async function sessionUnlockView(): Promise<(released: UnlockResult) => string[]> {
  return (await import('../render/journal-plain.js')).unlockLines;
}
