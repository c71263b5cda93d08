import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killStaleProcesses, startProcess } from './supervisor.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-supervisor-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('killStaleProcesses', () => {
  it("leaves this process's own children alone and kills those of an owner that is gone", async () => {
    const pidDir = join(dir, 'pids');
    const mine = startProcess({
      name: 'mine',
      command: '/bin/sleep',
      args: ['60'],
      runDir: join(dir, 'mine'),
      pidDir,
    });
    // An orphan: a process recorded by an owner that no longer runs (a pid no process has).
    const orphan = spawn('/bin/sleep', ['61'], { stdio: 'ignore' });
    const [record] = readdirSync(pidDir).map(
      (f) => JSON.parse(readFileSync(join(pidDir, f), 'utf8')) as object,
    );
    const deadOwner = 2 ** 22 + 1;
    writeFileSync(
      join(pidDir, `orphan.${deadOwner}.${orphan.pid}.pid.json`),
      JSON.stringify({
        ...record,
        name: 'orphan',
        pid: orphan.pid,
        cmdline: '/bin/sleep\u000061\u0000',
        ownerPid: deadOwner,
        runDir: join(dir, 'orphan'),
      }),
    );
    try {
      const orphanGone = new Promise((resolve) => orphan.once('exit', resolve));
      expect(killStaleProcesses(pidDir)).toEqual([{ name: 'orphan', pid: orphan.pid }]);
      await orphanGone;
      expect(alive(mine.pid)).toBe(true);
      expect(mine.exitStatus()).toBeNull();
    } finally {
      orphan.kill('SIGKILL');
      await mine.stop(1_000);
    }
  });
});
