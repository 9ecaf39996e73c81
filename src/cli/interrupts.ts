/**
 * SIGINT and SIGTERM while a command changes hosts. The first asks the executor to stop after the step in flight
 * (it journals it, releases the locks of hosts that are not mid-change, marks the run `interrupted`); a second
 * one stops at once (executor/force-stop.ts). The exit status is the shell's for the signal, 130 or 143: an
 * interrupted run is neither a failed host nor a refusal, and wrappers (shells, timeout, systemd, CI runners)
 * already read 128+N as "stopped by signal N" (README, Exit status).
 */
import type { FleetLock } from '../journal/fleet-lock.js';
import type { Journal } from '../journal/journal.js';
import { EXIT } from './exit-codes.js';

const EXIT_BY_SIGNAL = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm } as const;
type Handled = keyof typeof EXIT_BY_SIGNAL;

export interface Interrupts {
  /** Aborted at the first signal; its reason names the signal. */
  signal: AbortSignal;
  /** 130 / 143 once a signal came, else undefined. */
  exitCode(): number | undefined;
  dispose(): void;
}

/** `lock`: the fleet lock the command's runs hold their hosts in, for the forced stop to release them. */
export function onInterrupt(command: string, journal: Journal, lock: FleetLock): Interrupts {
  const controller = new AbortController();
  let received: Handled | undefined;
  const handler = (sig: Handled) => {
    if (!received) {
      received = sig;
      process.stderr.write(
        `\nrollgate ${command}: ${sig}: stopping after the step in flight (${sig === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to stop at once)\n`,
      );
      controller.abort(`interrupted by ${sig}`);
      return;
    }
    void forceNow(command, journal, lock, sig).finally(() => process.exit(EXIT_BY_SIGNAL[received ?? sig]));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    exitCode: () => (received ? EXIT_BY_SIGNAL[received] : undefined),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

async function forceNow(command: string, journal: Journal, lock: FleetLock, sig: Handled): Promise<void> {
  try {
    const { forceStop } = await import('../executor/force-stop.js');
    for (const r of await forceStop(journal, lock, `${sig} twice`)) {
      const kept = r.kept.length
        ? `; ${r.kept.join(', ')} keep${r.kept.length === 1 ? 's' : ''} its lock (a step was in flight)`
        : '';
      const next =
        r.kind === 'rollout'
          ? `\`rollgate resume ${r.runId}\` to go on, \`rollgate undo ${r.runId}\` to take its changes back`
          : `\`rollgate undo ${r.runId}\` takes its changes back`;
      process.stderr.write(
        `rollgate ${command}: stopped at once; run ${r.runId} is marked interrupted${kept}. ${next}\n`,
      );
    }
  } catch (err) {
    process.stderr.write(
      `rollgate ${command}: stopped at once; the journal could not be updated (${(err as Error).message}): \`rollgate runs\` shows the run\n`,
    );
  }
}
