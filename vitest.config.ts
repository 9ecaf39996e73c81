import { defineConfig } from 'vitest/config';

// Three tiers: unit (pure, fast), integration (real sshd processes on loopback), e2e (real lab VMs).
// Unit and integration files run in the forks pool, two at a time; the e2e files in a pool of their own (threads),
// all at once, beside them: e2e scenarios mostly wait on emulated boots and claim the lab hosts they need
// (test/e2e/lab-claims.ts), so they never share a host. Each pool takes its size from the root poolOptions. The
// threads pool must hold every e2e file at once: with 13 files and 12 threads the 13th (stock GRUB) only started
// when a thread came free, after the budget's end, and was skipped (CI run of 3834a43). Room for a few more.
export default defineConfig({
  test: {
    poolOptions: { forks: { maxForks: 2, minForks: 1 }, threads: { maxThreads: 20, minThreads: 1 } },
    // The e2e global teardown stops the lab's VMs (a root-level option: a project's own is not read).
    teardownTimeout: 180_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/e2e/**'],
          // In `npm test` unit files share two cores with the lab's emulated VMs: a CPU-bound case (an alias bomb
          // refused, a schema compiled) can take several times its quiet-machine time.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // A test may wait for free lab hosts (lab-claims.ts) before its own boots.
          testTimeout: 55 * 60_000,
          hookTimeout: 55 * 60_000,
          pool: 'threads',
          // One shared lab for every e2e file; stopped after the run if the run started it.
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
