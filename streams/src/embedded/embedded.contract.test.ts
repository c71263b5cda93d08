import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { logContract } from '../contract/contract-suite.ts';
import { EmbeddedLog } from './embedded-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-embedded-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

logContract('embedded', {
  open: async () => new EmbeddedLog({ dataDir: dir, pollIntervalMs: 50 }),
  childArgs: () => ['--embedded', dir],
  compact: async (log) => {
    (log as EmbeddedLog).cleanAll();
  },
});
