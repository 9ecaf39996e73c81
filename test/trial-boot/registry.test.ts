import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/connection/connection.js';
import { hostRootFromVars } from '../../src/modules/host-root.js';
import { BlsTrialBoot } from '../../src/trial-boot/bls-trial.js';
import { GrubTrialBoot } from '../../src/trial-boot/grub-trial.js';
import { SdBootTrialBoot } from '../../src/trial-boot/sdboot-trial.js';
import { noTrialBoot, trialBootForStack, trialBootOf } from '../../src/trial-boot/registry.js';

// Never used: creating a driver does not touch the host.
const conn = {} as Connection;
const hr = hostRootFromVars({});

describe('the trial-boot registry', () => {
  it('chooses GRUB for the GRUB-based boot stacks and when no stack was detected', () => {
    for (const stack of ['grub', 'grubby', 'proxmox', 'undetected'] as const)
      expect(trialBootForStack(stack)?.loader, stack).toBe('grub');
  });

  it('chooses the BLS driver where GRUB builds its menu from BLS entries', () => {
    expect(trialBootForStack('grub-bls')?.loader).toBe('grub-bls');
  });

  it('chooses the systemd-boot driver for a systemd-boot host', () => {
    expect(trialBootForStack('systemd-boot')?.loader).toBe('systemd-boot');
  });

  it('refuses at preflight a stack no driver handles, naming the supported ones', async () => {
    const pf = await noTrialBoot('undetected').preflight();
    expect(pf).toEqual({
      ok: false,
      problems: [
        {
          check: 'boot stack',
          message: "no trial-boot driver for the host's boot stack (undetected)",
          hint: 'supported: grub-bls, grub, grubby, proxmox, systemd-boot',
        },
      ],
      facts: { boot_stack: 'undetected' },
    });
    await expect(noTrialBoot('undetected').commit({} as never)).rejects.toThrow(/no trial-boot driver/);
  });

  it('finds the driver of a journaled state by its loader, and refuses a loader it does not know', () => {
    expect(trialBootOf({ loader: 'grub' }, conn, hr)).toBeInstanceOf(GrubTrialBoot);
    expect(trialBootOf({ loader: 'grub-bls' }, conn, hr)).toBeInstanceOf(BlsTrialBoot);
    expect(trialBootOf({ loader: 'systemd-boot' }, conn, hr)).toBeInstanceOf(SdBootTrialBoot);
    expect(() => trialBootOf({ loader: 'lilo' as never }, conn, hr)).toThrow(/has no driver/);
  });
});
