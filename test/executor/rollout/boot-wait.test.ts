import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/connection/connection.js';
import { waitForBoot } from '../../../src/executor/rollout/boot-wait.js';
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
