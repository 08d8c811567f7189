import { defineConfig } from 'vitest/config';

// Unit tests never touch the network; integration tests run on real emulators started by the global setup.
export default defineConfig({
  test: {
    // @azure/functions is CommonJS without detectable named exports; let Vite transform it so handlers import it as in Azure.
    server: { deps: { inline: ['@azure/functions'] } },
    // Vitest's default on 2 cores is one worker (cores - 1), i.e. every file after the other. Most files spend their
    // time waiting on something else (the CLI, Chromium, Azurite, the worker process, tsc), so two files at once use
    // both cores. Vitest's VITEST_MAX_WORKERS overrides it (1 restores the old one-at-a-time run).
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // `npm run bench`: figures for people (percentiles, ratios), never asserted; not part of `npm test`.
        test: {
          name: 'bench',
          include: ['tests/bench/**/*.test.ts'],
          environment: 'node',
          // One file at a time: benchmarks in parallel would measure each other.
          fileParallelism: false,
          globalSetup: ['tests/support/globalSetup.ts'],
          testTimeout: 300_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Fault injection (`npm run chaos` for N = 2,000; a small N inside `npm test`).
        test: {
          name: 'chaos',
          include: ['tests/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/globalSetup.ts'],
          // Alone, after the other projects: its timeouts (MODEL_TIMEOUT_MS, EVENT_BUDGET_MS) are sized for a worker
          // process that has a core, and a starved one would pay for answers twice.
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          testTimeout: 1_800_000,
          // The hook compiles the app (tsc) for the worker process: minutes on a loaded 2-core machine.
          hookTimeout: 600_000,
        },
      },
      {
        // `npm run chaos`: the same run at N = 2,000 (override with CHAOS_N).
        test: {
          name: 'chaos-full',
          include: ['tests/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/globalSetup.ts'],
          env: { CHAOS_N: process.env['CHAOS_N'] ?? '2000' },
          testTimeout: 1_800_000,
          // The hook compiles the app (tsc) for the worker process: minutes on a loaded 2-core machine.
          hookTimeout: 600_000,
        },
      },
      {
        // Whole-stack tests: the local stack (npm start's pieces) and a real browser.
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
