import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/connection/connection.js';
import { rebootOverrides, waitForNewBootId as waitForBoot } from '../../../src/modules/boot/reboot-proof.js';
import { makeHostRoot } from '../../../src/modules/host-root.js';

describe('waiting for a boot', () => {
  it('keeps trying while the host does not answer, until the deadline', async () => {
    let attempts = 0;
    const out = await waitForBoot(
      async () => {
        attempts++;
        throw new ConnectionError('unreachable', 'connect ECONNREFUSED');
      },
      makeHostRoot('/'),
      'old',
      { timeoutMs: 300, pollMs: 50 },
    );
    expect(out).toMatchObject({ status: 'timeout', lastError: 'connect ECONNREFUSED' });
    expect(attempts).toBeGreaterThan(1);
  });

  it('gives up at once on a machine that is not the one the run changed (no wait, so no power reset follows)', async () => {
    const started = Date.now();
    const refusal = new ConnectionError('locked', 'hv1 now presents host key SHA256:b ...');
    await expect(
      waitForBoot(async () => Promise.reject(refusal), makeHostRoot('/'), 'old', { timeoutMs: 60_000, pollMs: 50 }),
    ).rejects.toBe(refusal);
    expect(Date.now() - started).toBeLessThan(20_000); // far below the 60 s it would wait
  });
});

describe('the reboot overrides run and rollout both read', () => {
  it.each<[Record<string, unknown>, { pollMs: number; command?: string }]>([
    [{}, { pollMs: 5000 }],
    [{ rollgate_reboot_poll_seconds: 0.3 }, { pollMs: 300 }],
    [{ rollgate_reboot_poll_seconds: '2' }, { pollMs: 2000 }],
    [{ rollgate_reboot_poll_seconds: -1 }, { pollMs: 5000 }],
    [{ rollgate_reboot_command: '/sbin/reboot -f' }, { pollMs: 5000, command: '/sbin/reboot -f' }],
    [{ rollgate_reboot_command: ' ' }, { pollMs: 5000 }],
  ])('%j -> %j', (vars, expected) => {
    expect(rebootOverrides(vars)).toEqual(expected);
  });
});
