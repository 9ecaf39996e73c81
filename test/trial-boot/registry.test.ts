import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/connection/connection.js';
import { hostRootFromVars } from '../../src/modules/host-root.js';
import { BlsTrialBoot } from '../../src/trial-boot/bls-trial.js';
import { GrubTrialBoot } from '../../src/trial-boot/grub-trial.js';
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

  it('has no driver for systemd-boot yet, and that host is refused at preflight', async () => {
    expect(trialBootForStack('systemd-boot')).toBeUndefined();
    const pf = await noTrialBoot('systemd-boot').preflight();
    expect(pf).toEqual({
      ok: false,
      problems: [
        {
          check: 'boot stack',
          message: "no trial-boot driver for the host's boot stack (systemd-boot)",
          hint: 'supported: grub-bls, grub, grubby, proxmox',
        },
      ],
      facts: { boot_stack: 'systemd-boot' },
    });
    await expect(noTrialBoot('systemd-boot').commit({} as never)).rejects.toThrow(/no trial-boot driver/);
  });

  it('finds the driver of a journaled state by its loader, and refuses a loader it does not know', () => {
    expect(trialBootOf({ loader: 'grub' }, conn, hr)).toBeInstanceOf(GrubTrialBoot);
    expect(trialBootOf({ loader: 'grub-bls' }, conn, hr)).toBeInstanceOf(BlsTrialBoot);
    expect(() => trialBootOf({ loader: 'systemd-boot' }, conn, hr)).toThrow(/has no driver/);
  });
});
