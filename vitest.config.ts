import { defineConfig } from 'vitest/config';

// web/src and web/dist are the browser app (built by Vite); web/e2e holds its browser tests.
const exclude = ['**/node_modules/**', '.cache/**', 'web/src/**', 'web/dist/**'];

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude,
          globalSetup: ['./test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
