/**
 * The trial-boot drivers, chosen by the host's detected boot stack (modules/boot/boot-tooling.ts): the only list
 * of them. A run starts with `trialBootFor` (detection, then the driver listing that stack); resume, commit and
 * rollback use `trialBootOf` with the loader the journaled state names. Adding a driver: its
 * file beside grub-trial.ts exporting a TrialBootDefinition, and one entry in `trialBootDrivers`.
 */
import type { Connection } from '../connection/connection.js';
import { InternalError } from '../core/internal-error.js';
import { detectBootTooling } from '../modules/boot/boot-tooling.js';
import type { HostRoot } from '../modules/host-root.js';
import { ModuleFailure } from '../modules/module.js';
import { blsTrialBoot } from './bls-trial.js';
import { grubTrialBoot } from './grub-trial.js';
import { sdbootTrialBoot } from './sdboot-trial.js';
import type { BootStack, TrialBootDefinition, TrialBootDriver, TrialBootState } from './trial-boot.js';

export const trialBootDrivers: readonly TrialBootDefinition[] = [blsTrialBoot, grubTrialBoot, sdbootTrialBoot];

/** The host's boot stack; `undetected` when modules/boot finds no tooling it knows. */
export async function detectBootStack(conn: Connection, hr: HostRoot): Promise<BootStack> {
  try {
    const tooling = await detectBootTooling(conn, hr);
    return tooling.blscfg && (tooling.kind === 'grubby' || tooling.kind === 'grub') ? 'grub-bls' : tooling.kind;
  } catch (err) {
    if (err instanceof ModuleFailure) return 'undetected';
    throw err;
  }
}

/** The definition driving `stack`, or undefined when no driver does. */
export function trialBootForStack(stack: BootStack): TrialBootDefinition | undefined {
  return trialBootDrivers.find((d) => d.stacks.includes(stack));
}

/** The driver for a host about to start a trial boot, by its detected boot stack. */
export async function trialBootFor(conn: Connection, hr: HostRoot): Promise<TrialBootDriver> {
  const stack = await detectBootStack(conn, hr);
  return trialBootForStack(stack)?.create(conn, hr, {}) ?? noTrialBoot(stack);
}

/** The driver that made `state` (a resumed run, commit, rollback). */
export function trialBootOf(state: Pick<TrialBootState, 'loader'>, conn: Connection, hr: HostRoot): TrialBootDriver {
  const definition = trialBootDrivers.find((d) => d.loader === state.loader);
  if (!definition) throw new InternalError(`the journal names trial-boot loader ${state.loader}, which has no driver`);
  return definition.create(conn, hr, { resuming: true });
}

/** A stack no driver handles: preflight refuses (the rollout does not start there); nothing else may be called. */
export function noTrialBoot(stack: BootStack): TrialBootDriver {
  const never = async (): Promise<never> => {
    throw new InternalError(`no trial-boot driver for ${stack}: preflight refused, nothing else may run`);
  };
  return {
    loader: 'grub',
    preflight: async () => ({
      ok: false,
      problems: [
        {
          check: 'boot stack',
          message: `no trial-boot driver for the host's boot stack (${stack})`,
          hint: `supported: ${trialBootDrivers.flatMap((d) => d.stacks.filter((s) => s !== 'undetected')).join(', ')}`,
        },
      ],
      facts: { boot_stack: stack },
    }),
    prepare: never,
    arm: never,
    commit: never,
    release: never,
  };
}
