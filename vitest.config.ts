import { defineConfig } from 'vitest/config';

// Three tiers: unit (pure, fast), integration (real sshd processes on loopback), e2e (real lab VMs).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/e2e/**'],
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
          // Files run side by side: each scenario claims the lab hosts it needs, so they never share one.
          fileParallelism: true,
          poolOptions: { forks: { maxForks: 8, minForks: 1 } },
          // One shared lab for every e2e file; stopped after the run if the run started it.
          globalSetup: ['test/e2e/global-setup.ts'],
          teardownTimeout: 180_000,
        },
      },
    ],
  },
});
