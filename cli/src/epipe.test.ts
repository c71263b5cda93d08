// A command whose output is piped into a reader that stops early (`hetu fingerprint … | head`)
// ends quietly with 0, as Unix tools do, not with an unhandled EPIPE and its stack.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('output into a closed pipe', () => {
  it('hetu fingerprint with its reader gone after the first chunk exits 0 without a stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-epipe-'));
    try {
      const file = join(dir, 'app.log');
      // ~50 000 lines: several MiB of output, far more than a pipe holds.
      writeFileSync(
        file,
        Array.from(
          { length: 50_000 },
          (_, i) => `ERROR request ${i} failed: connection refused to 10.0.${i % 250}.7:5432`,
        ).join('\n') + '\n',
      );
      const child = spawn(process.execPath, ['cli/src/main.ts', 'fingerprint', file], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(stderr).not.toContain('EPIPE');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
