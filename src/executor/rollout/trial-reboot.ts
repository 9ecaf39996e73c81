/**
 * The rollout's reboot: the candidate (new kernel and/or args) boots once as a one-shot entry with panic=N,
 * while the frozen known-good entry stays the saved default. Arming reads the expectations back from the
 * journaled steps (the kernel_package target decides which entry is the candidate). Where the host lands is
 * read from /proc/cmdline: the trial, or the known-good entry after a panic or a power reset.
 */
import { ConnectionError, type Connection } from '../../connection/connection.js';
import { trialBootOf } from '../../trial-boot/registry.js';
import { bootSide, type TrialBootState } from '../../trial-boot/trial-boot.js';
import { bootAndWait } from './boot-control.js';
import { readBootInfo } from '../../modules/boot/reboot-proof.js';
import { expectationsFromSteps, passthroughIdsOf } from './expectations.js';
import type { HostCtx } from './host-context.js';
import { drainBeforeReboot } from './guests.js';
import { ModuleFailure } from '../../modules/module.js';

export type TrialOutcome =
  | { side: 'trial'; conn: Connection; ms: number; reset: boolean }
  | { side: 'fallback'; conn: Connection; ms: number; reset: boolean }
  | { side: 'not_back'; message: string };

/** Arm the one-shot trial for the changes journaled so far, reboot, and say where the host came back. */
export async function trialReboot(h: HostCtx, conn: Connection, why: string): Promise<TrialOutcome> {
  const { d, store } = h;
  const expectations = expectationsFromSteps(d.journal.listSteps(d.runId, d.host.name), passthroughIdsOf(d.host.vars));
  // Guests go down before anything is armed: a drain that cannot finish leaves no one-shot behind. It fails as the
  // reboot task (a ModuleFailure, the connection kept), so the play's changes are undone over the same login and the
  // guests it moved come back; a lost connection stays what it is.
  try {
    await drainBeforeReboot(h, conn);
  } catch (err) {
    if (err instanceof ConnectionError || err instanceof ModuleFailure) throw err;
    throw new ModuleFailure(`the guests could not be drained for the trial boot: ${(err as Error).message}`);
  }
  h.step('arm the trial boot', 'started');
  const state = store.rec.trial as TrialBootState;
  const trial = await trialBootOf(state, conn, d.hr).arm(state, {
    ...(expectations.kernelRelease ? { release: expectations.kernelRelease } : {}),
    panicSec: d.settings.panicTimeoutSec,
  });
  h.step(
    'arm the trial boot',
    'ok',
    `one-shot ${trial.candidateRelease} (${(trial.trialArgs ?? []).join(' ')}); the default stays the known-good ${trial.knownGoodRelease}`,
  );
  // The boot id before the reboot goes with the phase, in one save: a controller killed between the two would leave
  // a resumed run unable to tell "not rebooted yet" from "rebooted onto another entry".
  const oldBootId = (await readBootInfo(conn, d.hr)).bootId;
  store.save({ phase: 'rebooting', trial, expectations, oldBootId });
  const back = await bootAndWait(h, why, conn);
  if (back.status === 'timeout') return { side: 'not_back', message: back.lastError };
  if (bootSide(back.boot, trial) === 'trial') {
    store.save({ phase: 'booted' });
    h.step('trial boot', 'ok', `running the candidate${back.reset ? ' after a power reset' : ''}`);
    return { side: 'trial', conn: back.conn, ms: back.ms, reset: back.reset };
  }
  store.save({ phase: 'fell_back' });
  h.step(
    'trial boot',
    'failed',
    `the candidate did not come up; back on the known-good entry${back.reset ? ' after a power reset' : ''}`,
  );
  return { side: 'fallback', conn: back.conn, ms: back.ms, reset: back.reset };
}
