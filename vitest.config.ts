import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{operator,api,crds,lib,images,test}/**/*.test.ts'],
          exclude: [
            'test/integration/**',
            'test/e2e/**',
            'test/chaos/**',
            'test/real-node/**',
            '**/node_modules/**',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // One control plane is shared; files run one after another so their
          // load does not make each other's deadlines flaky on 2 cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          // vdl as deployed: the chart on a kubelet + containerd node with the
          // images `make images` built (`make test-real-node`).
          name: 'real-node',
          include: ['test/real-node/**/*.test.ts'],
          globalSetup: ['test/real-node/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // Faults and hostile input (`make test-chaos`): each file starts the
          // systems it breaks, so nothing is shared and files run one at a time.
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
